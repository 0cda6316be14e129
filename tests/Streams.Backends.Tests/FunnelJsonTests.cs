using Streams.Analytics;

namespace Streams.Backends.Tests;

public sealed class FunnelJsonTests
{
    [Fact]
    public void The_report_json_names_every_column_in_snake_case_and_reads_back_the_same_funnel()
    {
        var row = new FunnelRow("cart", 10, new Dictionary<string, long> { ["opted_out"] = 2 }, 7, 5, 1,
            new Dictionary<string, long> { ["twilio 30007"] = 1 }, Expired: 1, Ambiguous: 0);

        var json = FunnelJson.Serialize([row]);

        Assert.Equal("""[{"campaign_id":"cart","qualified":10,"suppressed":{"opted_out":2},"suppressed_total":2,"sent":7,"delivered":5,"failed":1,"pending":1,"failed_by_reason":{"twilio 30007":1},"expired":1,"ambiguous":0}]""", json);
        var back = Assert.Single(FunnelJson.Deserialize(json));
        Assert.Equal((row.CampaignId, row.Qualified, row.Sent, row.Delivered, row.Failed, row.Expired, row.Ambiguous, row.Pending),
            (back.CampaignId, back.Qualified, back.Sent, back.Delivered, back.Failed, back.Expired, back.Ambiguous, back.Pending));
        Assert.Equal(row.Suppressed, back.Suppressed);
        Assert.Equal(row.FailedByReason, back.FailedByReason);
    }
}
