using Streams.Core;
using Streams.Kafka;

namespace Streams.Pipeline.Tests;

/// <summary>pause, resume and stop against sms.campaigns: resume brings back a paused campaign only.</summary>
public sealed class CampaignStatusTests : IDisposable
{
    private readonly PipelineFixture _f = new();

    private const string Spec = """
        id: once
        name: Once
        type: live
        who: {trigger: {event: Signed Up}, reach: {limit: 3}}
        what: {provider: sandbox, text: "Hello"}
        """;

    [Fact]
    public async Task Resume_reactivates_a_paused_campaign_only()
    {
        var options = new StreamsOptions { StateDir = _f.StateDir };
        using var kafka = PipelineFixture.Kafka(options);
        var client = _f.Campaigns(options);
        await client.ApplyAsync(Spec);

        Assert.Equal(CampaignStatus.Active, (await client.SetStatusAsync("once", CampaignStatus.Active)).Status); // already active: nothing to do
        Assert.Equal((2, CampaignStatus.Paused), Of(await client.SetStatusAsync("once", CampaignStatus.Paused)));
        Assert.Equal((3, CampaignStatus.Active), Of(await client.SetStatusAsync("once", CampaignStatus.Active)));

        // The dispatcher completes a live campaign whose reach limit is full (same version, new status).
        var active = (await client.GetAsync("once"))!.Record;
        using (var producer = new Confluent.Kafka.ProducerBuilder<string, byte[]>(new Confluent.Kafka.ProducerConfig { BootstrapServers = kafka.Bootstrap }).Build())
            await producer.ProduceAsync(options.Topics.Campaigns, new Confluent.Kafka.Message<string, byte[]>
            {
                Key = "once", Value = Codecs.CampaignRecord.Encode(active with { Status = CampaignStatus.Completed }),
            });
        var resume = await Assert.ThrowsAsync<CampaignException>(() => client.SetStatusAsync("once", CampaignStatus.Active));
        Assert.Equal("campaign 'once' is completed: its reach limit (3) is reached; raise who.reach.limit and apply it again to send more", resume.Message);
        var pause = await Assert.ThrowsAsync<CampaignException>(() => client.SetStatusAsync("once", CampaignStatus.Paused));
        Assert.StartsWith("campaign 'once' is completed", pause.Message);

        Assert.Equal((4, CampaignStatus.Stopped), Of(await client.SetStatusAsync("once", CampaignStatus.Stopped)));
        var stopped = await Assert.ThrowsAsync<CampaignException>(() => client.SetStatusAsync("once", CampaignStatus.Active));
        Assert.Equal("campaign 'once' is stopped; apply it again to start a new version", stopped.Message);
        Assert.Equal((5, CampaignStatus.Active), Of((await client.ApplyAsync(Spec)).Record));
    }

    private static (int, CampaignStatus) Of(CampaignRecord r) => (r.Version, r.Status);

    public void Dispose() => _f.Dispose();
}
