using System.Runtime.InteropServices;

namespace Mtt.Benchmarks.Load;

/// <summary>What the figures were measured on; they mean little without it.</summary>
internal sealed record MachineInfo(int ProcessorCount, string CpuModel, string Runtime, string OperatingSystem, int ClockTicksPerSecond, bool ClockTicksAssumed)
{
    public static MachineInfo Read()
    {
        string model = "unknown";
        try
        {
            foreach (string line in File.ReadLines("/proc/cpuinfo"))
            {
                if (!line.StartsWith("model name", StringComparison.Ordinal)) continue;
                model = line[(line.IndexOf(':') + 1)..].Trim();
                break;
            }
        }
        catch (IOException)
        {
        }
        return new MachineInfo(Environment.ProcessorCount, model, RuntimeInformation.FrameworkDescription, RuntimeInformation.OSDescription,
            ProcFs.ClockTicksPerSecond, ProcFs.ClockTicksAssumed);
    }
}
