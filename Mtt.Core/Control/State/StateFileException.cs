namespace Mtt.Core.Control.State;

/// <summary>The state file could not be read, parsed or written; the message names the file and the reason.</summary>
public sealed class StateFileException(string message, Exception? inner = null) : Exception(message, inner);
