using System.Text.Json;
using Streams.Core;
using Streams.Counters;
using Streams.Dispatcher.Webhooks;

namespace Streams.Dispatcher.Tests;

public sealed class WebhookTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Twilio_signature_matches_the_documented_test_vector()
    {
        var form = new Dictionary<string, string>
        {
            ["CallSid"] = "CA1234567890ABCDE", ["Caller"] = "+12349013030", ["Digits"] = "1234", ["From"] = "+12349013030", ["To"] = "+18005551212",
        };
        const string url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        Assert.Equal("0/KCTR6DLpKmkAf8muzZqo1nDgQ=", TwilioSignature.Compute("12345", url, form));
        Assert.True(TwilioSignature.Valid("12345", url, form, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="));
        Assert.False(TwilioSignature.Valid("12345", url, form.Append(new("Body", "x")), "0/KCTR6DLpKmkAf8muzZqo1nDgQ="));
        Assert.False(TwilioSignature.Valid("54321", url, form, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="));
    }

    [Fact]
    public void Sinch_signature_covers_body_nonce_and_timestamp()
    {
        const string body = """{"type":"recipient_delivery_report_sms","batch_id":"b1"}""";
        var signature = SinchSignature.Compute("secret", body, "n1", "1764583200");
        Assert.True(SinchSignature.Valid("secret", body, "n1", "1764583200", "HmacSHA256", signature));
        Assert.False(SinchSignature.Valid("secret", body + " ", "n1", "1764583200", "HmacSHA256", signature));
        Assert.False(SinchSignature.Valid("secret", body, "n2", "1764583200", "HmacSHA256", signature));
        Assert.False(SinchSignature.Valid("other", body, "n1", "1764583200", "HmacSHA256", signature));
        Assert.False(SinchSignature.Valid("secret", body, "n1", "1764583200", "HmacSHA1", signature));
        Assert.False(SinchSignature.Valid("secret", body, null, "1764583200", null, signature));
    }

    private sealed class Sink : IResultSink
    {
        public List<SmsResult> Stored { get; } = [];
        public bool Fail { get; set; }
        private readonly HashSet<string> _seen = [];

        public Task<bool> StoreOnceAsync(SmsResult result)
        {
            if (Fail) throw new InvalidOperationException("kafka down");
            if (!_seen.Add($"{result.RequestId}:{result.Status}")) return Task.FromResult(false);
            Stored.Add(result);
            return Task.FromResult(true);
        }
    }

    private static JsonElement Json(string s) => JsonDocument.Parse(s).RootElement;

    [Fact]
    public async Task A_sinch_report_becomes_one_result_for_the_request_behind_the_recipient()
    {
        var counters = Streams.Tests.TestCounters.Create();
        var sink = new Sink();
        var handler = new DeliveryReportHandler(counters, sink, new Microsoft.Extensions.Time.Testing.FakeTimeProvider(Now));
        const string report = """{"type":"recipient_delivery_report_sms","batch_id":"b1","recipient":"+919876543210","code":0,"status":"Delivered","at":"2026-12-01T10:00:01Z"}""";

        Assert.Equal(503, (await handler.SinchAsync(Json(report))).Status);
        await counters.RememberAsync(MessageNote.Key("sinch", "b1:+919876543210"), new MessageNote("r1", "cart", "u1", "primary", 1, "GSM-7").ToString(), TimeSpan.FromDays(1));

        Assert.Equal(204, (await handler.SinchAsync(Json(report))).Status);
        Assert.Equal(200, (await handler.SinchAsync(Json(report))).Status);
        var result = Assert.Single(sink.Stored);
        Assert.Equal(("r1", "cart", "u1", ResultStatus.Delivered, "primary", "b1:+919876543210", Now), (result.RequestId, result.CampaignId, result.UserId, result.Status, result.Provider, result.MessageId, result.Ts));

        Assert.Equal(200, (await handler.SinchAsync(Json(report.Replace("Delivered", "Dispatched")))).Status);
        Assert.Equal(400, (await handler.SinchAsync(Json("""{"batch_id":"b1"}"""))).Status);
        Assert.Equal(204, (await handler.SinchAsync(Json(report.Replace("\"Delivered\"", "\"Failed\"").Replace("\"code\":0", "\"code\":402")))).Status);
        Assert.Equal((ResultStatus.Failed, "sinch 402 Failed"), (sink.Stored[1].Status, sink.Stored[1].Reason));
    }

    [Fact]
    public async Task A_twilio_callback_maps_final_statuses_and_marks_a_stop_reported_by_the_carrier()
    {
        var counters = Streams.Tests.TestCounters.Create();
        var sink = new Sink();
        var handler = new DeliveryReportHandler(counters, sink, new Microsoft.Extensions.Time.Testing.FakeTimeProvider(Now));
        await counters.RememberAsync(MessageNote.Key("twilio", "SM1"), new MessageNote("r1", "cart", "u1", "twilio", 1, "GSM-7").ToString(), TimeSpan.FromDays(1));
        Dictionary<string, string> Form(string status, string? error = null) => new()
        {
            ["MessageSid"] = "SM1", ["MessageStatus"] = status, ["To"] = "+919876543210", ["ErrorCode"] = error ?? "",
        };

        var named = new MessageNote("r1", "cart", "u1", "twilio", 0, "");
        Assert.Equal(200, (await handler.TwilioAsync(Form("sent"), named)).Status);
        Assert.Equal(409, (await handler.TwilioAsync(Form("delivered"), named with { RequestId = "r-other" })).Status);
        Assert.Equal(204, (await handler.TwilioAsync(Form("undelivered", "21610"), named)).Status);
        var stored = sink.Stored.Single();
        Assert.Equal((ResultStatus.Undelivered, "twilio 21610", 1, "GSM-7"), (stored.Status, stored.Reason, stored.Segments, stored.Encoding));
        Assert.Equal([true], await counters.OptedOutAsync([["phone:+919876543210"]]));

        sink.Fail = true;
        await Assert.ThrowsAsync<InvalidOperationException>(() => handler.TwilioAsync(Form("delivered"), named));
    }

    [Fact]
    public async Task A_report_whose_url_names_its_request_is_stored_even_before_the_dispatcher_noted_the_message()
    {
        var sink = new Sink();
        var handler = new DeliveryReportHandler(Streams.Tests.TestCounters.Create(), sink, new Microsoft.Extensions.Time.Testing.FakeTimeProvider(Now));
        var named = new MessageNote("r7", "cart", "u7", "kannel", 2, "UCS-2");

        Assert.Equal(200, (await handler.KannelAsync(named, "8")).Status);
        Assert.Equal(204, (await handler.KannelAsync(named, "1")).Status);
        Assert.Equal(400, (await handler.KannelAsync(null, "1")).Status);
        Assert.Equal(204, (await handler.KannelAsync(named with { RequestId = "r8" }, "16")).Status);
        Assert.Equal([("r7", ResultStatus.Delivered, (string?)null, 2), ("r8", ResultStatus.Failed, "kannel report 16", 2)],
            sink.Stored.Select(r => (r.RequestId, r.Status, r.Reason, r.Segments)).ToList());
    }
}
