using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.Mock;
using Streamiz.Kafka.Net.SerDes;

namespace Streams.Topologies.Tests;

/// <summary>One driver per test, with its own application id and state directory (Streamiz samples).</summary>
internal static class Drivers
{
    public static TopologyTestDriver Start(string name, string stateDir, Action<StreamBuilder> build)
    {
        var builder = new StreamBuilder();
        build(builder);
        return new TopologyTestDriver(builder.Build(), new StreamConfig<StringSerDes, ByteArraySerDes>
        {
            ApplicationId = $"{name}-{Guid.NewGuid().ToString("N")[..8]}",
            StateDir = stateDir,
        });
    }
}
