namespace Mtt.Core.Transport.OpenSsl;

/// <summary>The TLS alerts the record layer sends or reads (RFC 8446 section 6).</summary>
internal static class TlsAlert
{
    public const byte CloseNotify = 0;
    public const byte UnexpectedMessage = 10;
    public const byte BadRecordMac = 20;
    public const byte RecordOverflow = 22;
    public const byte DecodeError = 50;
    public const byte UserCanceled = 90;

    public const byte Fatal = 2;
}
