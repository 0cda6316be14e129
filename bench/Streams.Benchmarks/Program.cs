using BenchmarkDotNet.Running;
using Streams.Benchmarks;

// `dispatch` is the end-to-end decision-chain bench (needs Redis); anything else goes to BenchmarkDotNet.
if (args is ["dispatch", ..])
    return await DispatchBench.RunAsync(args[1..]);
if (args is ["providers", ..])
    return await ProviderBench.RunAsync(args[1..]);
if (args is ["segments", ..])
    return await SegmentBench.RunAsync(args[1..]);
if (args is ["schedule", ..])
    return await ScheduleBench.RunAsync(args[1..]);
if (args is ["attribution", ..])
    return await AttributionBench.RunAsync(args[1..]);
if (args is ["report", ..])
    return await ReportBench.RunAsync(args[1..]);
if (args is ["rebalance", ..])
    return await RebalanceBench.RunAsync(args[1..]);
if (args is ["restart", ..])
    return await RestartBench.RunAsync(args[1..]);
if (args is ["live", ..])
    return await LiveBench.RunAsync(args[1..]);
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;

public partial class Program;
