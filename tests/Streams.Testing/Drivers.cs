using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.Mock;
using Streamiz.Kafka.Net.SerDes;

namespace Streams.Tests;

/// <summary>One driver per test, with its own application id and state directory (Streamiz samples).</summary>
public static class Drivers
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
