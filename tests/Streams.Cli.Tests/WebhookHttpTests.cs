using System.Net;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
using Streams.Core;
using Streams.Dispatcher;
using Streams.Dispatcher.Webhooks;
using Streams.Pipeline;
using Streams.Pipeline.Hosting;
using Streams.Kafka;
using Streams.Tests;

namespace Streams.Cli.Tests;

/// <summary>The webhooks inside `streams run`, over HTTP: signatures, size limits, problem bodies, results in Kafka once.</summary>
public sealed class WebhookHttpTests : IAsyncLifetime
{
    private const string TwilioCallback = "https://sms.example.com/webhooks/twilio";
    private readonly string _stateDir = Path.Combine(Path.GetTempPath(), "streams-tests", Guid.NewGuid().ToString("N"));
    private readonly string _tokenVar = "STREAMS_TEST_TWILIO_" + Guid.NewGuid().ToString("N")[..8];
    private readonly string _secretVar = "STREAMS_TEST_SINCH_" + Guid.NewGuid().ToString("N")[..8];
    private PipelineHost _pipeline = null!;
    private Microsoft.AspNetCore.Builder.WebApplication _web = null!;
    private readonly HttpClient _http = new();

    public async Task InitializeAsync()
    {
        Environment.SetEnvironmentVariable(_tokenVar, "twilio-token");
        Environment.SetEnvironmentVariable(_secretVar, "sinch-secret");
        var options = new StreamsOptions
        {
            StateDir = _stateDir,
            Providers =
            {
                ["tw"] = new Dispatcher.Providers.ProviderOptions { Type = "twilio", AccountSid = "AC1", TokenEnv = _tokenVar, CallbackUrl = TwilioCallback },
                ["si"] = new Dispatcher.Providers.ProviderOptions { Type = "sinch", ServicePlanId = "p1", TokenEnv = _secretVar, WebhookSecretEnv = _secretVar },
                ["ka"] = new Dispatcher.Providers.ProviderOptions { Type = "kannel", BaseUrl = "http://127.0.0.1:9", Username = "u", TokenEnv = _secretVar, WebhookSecretEnv = _secretVar },
            },
        };
        _pipeline = await PipelineHost.StartAsync(options, NullLoggerFactory.Instance, TimeProvider.System, new PipelineHostOptions { Roles = 0 });
        _web = await StreamsWebHost.StartAsync(_pipeline, "http://127.0.0.1:0", CancellationToken.None);
        _http.BaseAddress = new Uri(StreamsWebHost.Address(_web));
        await _pipeline.Counters.RememberAsync(MessageNote.Key("twilio", "SM1"), new MessageNote("r1", "cart", "u1", "tw", 1, "GSM-7").ToString(), TimeSpan.FromDays(1));
        await _pipeline.Counters.RememberAsync(MessageNote.Key("sinch", "b1:+919876543210"), new MessageNote("r2", "cart", "u2", "si", 2, "UCS-2").ToString(), TimeSpan.FromDays(1));
    }

    public async Task DisposeAsync()
    {
        await _web.DisposeAsync();
        await _pipeline.DisposeAsync();
        try { Directory.Delete(_stateDir, recursive: true); } catch (IOException) { }
    }

    private async Task<HttpResponseMessage> PostTwilioAsync(string path, Dictionary<string, string> form, string? signature = null)
    {
        var query = path.Contains('?') ? path[path.IndexOf('?')..] : "";
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new FormUrlEncodedContent(form) };
        request.Headers.Add("X-Twilio-Signature", signature ?? TwilioSignature.Compute("twilio-token", TwilioCallback + query, form));
        return await _http.SendAsync(request);
    }

    private async Task<HttpResponseMessage> PostSinchAsync(string body, bool sign = true)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/sinch") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("x-sinch-webhook-signature-nonce", "n1");
        request.Headers.Add("x-sinch-webhook-signature-timestamp", "1764583200");
        request.Headers.Add("x-sinch-webhook-signature-algorithm", "HmacSHA256");
        request.Headers.Add("x-sinch-webhook-signature", sign ? SinchSignature.Compute("sinch-secret", body, "n1", "1764583200") : "AAAA");
        return await _http.SendAsync(request);
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string title)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(title, problem.GetProperty("title").GetString());
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task A_signed_twilio_report_is_stored_once_and_answered_after_kafka_has_it()
    {
        var form = new Dictionary<string, string> { ["MessageSid"] = "SM1", ["MessageStatus"] = "delivered", ["To"] = "+919876543210", ["AccountSid"] = "AC1" };

        Assert.Equal(HttpStatusCode.NoContent, (await PostTwilioAsync("/webhooks/twilio?r=r1&c=cart&u=u1", form)).StatusCode);
        var results = KafkaTest.ReadAll(_pipeline.Bootstrap, _pipeline.Topics.Results);
        var result = Codecs.SmsResult.Decode(Assert.Single(results).Message.Value);
        Assert.Equal(("r1", ResultStatus.Delivered, "tw"), (result.RequestId, result.Status, result.Provider));

        // Twilio replays: answered 2xx, stored once.
        Assert.Equal(HttpStatusCode.OK, (await PostTwilioAsync("/webhooks/twilio?r=r1&c=cart&u=u1", form)).StatusCode);
        Assert.Single(KafkaTest.ReadAll(_pipeline.Bootstrap, _pipeline.Topics.Results));

        await AssertProblemAsync(await PostTwilioAsync("/webhooks/twilio?r=r1&c=cart&u=u1", form, "bm90IGl0"), HttpStatusCode.Unauthorized, "bad signature");
        // The signature covers the query: a request id swapped in transit is refused.
        await AssertProblemAsync(await PostTwilioAsync("/webhooks/twilio?r=r9&c=cart&u=u1", form, TwilioSignature.Compute("twilio-token", TwilioCallback + "?r=r1&c=cart&u=u1", form)),
            HttpStatusCode.Unauthorized, "bad signature");
    }

    [Fact]
    public async Task Metrics_count_every_result_of_a_campaign_failures_included()
    {
        await new CampaignClient(_pipeline.Bootstrap, _pipeline.Topics, TimeProvider.System, NullLogger.Instance)
            .ApplyAsync("id: cart\nname: Cart\ntype: live\nwho: {trigger: {event: E}}\nwhat: {provider: sandbox, text: Hi}");
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (_pipeline.Campaigns.Get("cart") is null && waited.Elapsed < TimeSpan.FromSeconds(30)) await Task.Delay(50);
        var form = new Dictionary<string, string> { ["MessageSid"] = "SM1", ["MessageStatus"] = "failed", ["ErrorCode"] = "30007", ["To"] = "+919876543210", ["AccountSid"] = "AC1" };
        Assert.Equal(HttpStatusCode.NoContent, (await PostTwilioAsync("/webhooks/twilio?r=r1&c=cart&u=u1", form)).StatusCode);

        var metrics = await _http.GetStringAsync("/metrics");
        Assert.Equal(1, Prometheus.Value(metrics, "streams_campaign_results_total", ("campaign", "cart"), ("result", "failed")));
        // Histograms in seconds, as Prometheus names them (the campaign reader handled the campaign's record).
        Assert.True(Prometheus.Value(metrics, "streams_batch_duration_seconds_count", ("consumer", "campaign cache")) >= 1, metrics);
    }

    [Fact]
    public async Task Sinch_reports_need_a_valid_signature_and_json_and_oversize_bodies_are_refused()
    {
        const string report = """{"type":"recipient_delivery_report_sms","batch_id":"b1","recipient":"+919876543210","code":0,"status":"Delivered","at":"2026-12-01T10:00:01Z"}""";
        var before = await _http.GetStringAsync("/metrics");
        await AssertProblemAsync(await PostSinchAsync(report, sign: false), HttpStatusCode.Unauthorized, "bad signature");
        await AssertProblemAsync(await PostSinchAsync("{not json"), HttpStatusCode.BadRequest, "bad JSON");
        await AssertProblemAsync(await PostSinchAsync("""{"batch_id":"b1"}"""), HttpStatusCode.BadRequest, "missing fields");
        await AssertProblemAsync(await PostSinchAsync(report.Replace("b1", "b-unknown")), HttpStatusCode.ServiceUnavailable, "unknown message");
        await AssertProblemAsync(await PostSinchAsync(new string(' ', 70_000) + report), HttpStatusCode.RequestEntityTooLarge, "body too large");

        Assert.Equal(HttpStatusCode.NoContent, (await PostSinchAsync(report)).StatusCode);
        var result = Codecs.SmsResult.Decode(Assert.Single(KafkaTest.ReadAll(_pipeline.Bootstrap, _pipeline.Topics.Results)).Message.Value);
        Assert.Equal(("r2", "b1:+919876543210", 2, "UCS-2"), (result.RequestId, result.MessageId, result.Segments, result.Encoding));

        var metrics = await _http.GetStringAsync("/metrics");
        double Delta(string status) =>
            Prometheus.Value(metrics, "streams_webhook_requests_total", ("path", "/webhooks/sinch"), ("status", status))
            - Prometheus.Value(before, "streams_webhook_requests_total", ("path", "/webhooks/sinch"), ("status", status));
        Assert.Equal((1, 1, 2), (Delta("204"), Delta("401"), Delta("400")));
        Assert.Contains("# TYPE streams_webhook_requests_total counter", metrics);
    }

    [Fact]
    public async Task Kannel_reports_need_the_shared_secret_and_only_final_types_are_stored()
    {
        const string report = "/webhooks/kannel?r=r5&c=cart&u=u5&p=ka&n=1&e=GSM-7";
        await AssertProblemAsync(await _http.GetAsync(report + "&s=1&k=wrong"), HttpStatusCode.Unauthorized, "bad secret");
        await AssertProblemAsync(await _http.GetAsync(report + "&s=1"), HttpStatusCode.Unauthorized, "bad secret");
        Assert.Equal(HttpStatusCode.OK, (await _http.GetAsync(report + "&s=8&k=sinch-secret")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await _http.GetAsync(report + "&s=1&k=sinch-secret")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _http.GetAsync(report + "&s=1&k=sinch-secret")).StatusCode);
        var result = Codecs.SmsResult.Decode(Assert.Single(KafkaTest.ReadAll(_pipeline.Bootstrap, _pipeline.Topics.Results)).Message.Value);
        Assert.Equal(("r5", "cart", "u5", ResultStatus.Delivered, "ka"), (result.RequestId, result.CampaignId, result.UserId, result.Status, result.Provider));
    }

    [Fact]
    public async Task An_inbound_stop_goes_to_sms_inbound()
    {
        var form = new Dictionary<string, string> { ["MessageSid"] = "SMin1", ["From"] = "+919876543210", ["To"] = "+14155550100", ["Body"] = "STOP" };
        var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/inbound/twilio") { Content = new FormUrlEncodedContent(form) };
        request.Headers.Add("X-Twilio-Signature", TwilioSignature.Compute("twilio-token", "https://sms.example.com/webhooks/inbound/twilio", form));
        Assert.Equal(HttpStatusCode.NoContent, (await _http.SendAsync(request)).StatusCode);
        var inbound = Codecs.InboundMessage.Decode(Assert.Single(KafkaTest.ReadAll(_pipeline.Bootstrap, _pipeline.Topics.Inbound)).Message.Value);
        Assert.Equal(("SMin1", "twilio", "+919876543210", "STOP"), (inbound.Id, inbound.Provider, inbound.From, inbound.Body));
        await AssertProblemAsync(await _http.PostAsync("/webhooks/inbound/nokia", new StringContent("")), HttpStatusCode.NotFound, "unknown provider");
        // Anything the host does not serve is a JSON problem too.
        var missing = await _http.PostAsync("/webhooks/nowhere", new StringContent(""));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
        var wrongMethod = await _http.GetAsync("/webhooks/sinch");
        Assert.Equal(HttpStatusCode.MethodNotAllowed, wrongMethod.StatusCode);
        Assert.Equal("application/problem+json", wrongMethod.Content.Headers.ContentType?.MediaType);
    }
}
