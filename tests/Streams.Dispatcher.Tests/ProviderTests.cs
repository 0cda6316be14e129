using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Streams.Core;
using Streams.Counters;
using Streams.Dispatcher.Providers;
using Streams.Tests;

namespace Streams.Dispatcher.Tests;

/// <summary>Sinch, Twilio and failover groups against loopback fakes that check the documented request shapes.</summary>
public sealed class ProviderTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);
    private static readonly HttpClient Http = new() { Timeout = Timeout.InfiniteTimeSpan };
    private LoopbackServer _fake = null!;
    private LoopbackServer _other = null!;

    public async Task InitializeAsync()
    {
        _fake = await LoopbackServer.StartAsync();
        _other = await LoopbackServer.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _fake.DisposeAsync();
        await _other.DisposeAsync();
    }

    private static readonly ResilienceSettings Fast = new()
    {
        Timeout = TimeSpan.FromSeconds(2), MaxRetries = 3, RetryDelay = TimeSpan.FromMilliseconds(5),
        BreakMinimumCalls = 4, BreakAtFailureRatio = 0.5, BreakFor = TimeSpan.FromMinutes(5),
    };

    private static OutboundSms Sms(string user, string to, string text, string campaign = "cart", string? from = "+14155550100") =>
        new(new SmsRequest($"r-{campaign}-{user}", campaign, 1, user, Now, new RequestContext("Added To Cart", Now, Props.Empty, to, null, true, Props.Empty)),
            to, from, text, SmsEncoding.Analyze(text));

    private SinchProvider Sinch(LoopbackServer server, ResilienceSettings? r = null) => new("sinch", new SinchSettings
    {
        BaseUrl = server.Url, ServicePlanId = "plan1", Token = "sinch-token", CallbackUrl = "https://sms.example.com/webhooks/sinch",
    }, Http, HttpResilience.Build(r ?? Fast, TimeProvider.System));

    private TwilioProvider Twilio(LoopbackServer server, ResilienceSettings? r = null) => new("twilio", new TwilioSettings
    {
        BaseUrl = server.Url, AccountSid = "AC123", AuthToken = "twilio-token", StatusCallback = "https://sms.example.com/webhooks/twilio",
    }, Http, HttpResilience.Build(r ?? Fast, TimeProvider.System));

    [Fact]
    public async Task Sinch_sends_one_personalised_batch_per_text_shape_with_the_documented_fields()
    {
        _fake.Answer = r => new Reply(201, $$"""{"id":"b{{_fake.Requests.Count}}","to":[]}""");
        var batch = new[]
        {
            Sms("u1", "+919876543210", "Hi Asha, your Shoes is waiting"),
            Sms("u2", "+919876543211", "Hi Ravi, your Hat is waiting"),
            Sms("u3", "+919876543212", "Hi Meera, your Red Bag is waiting"),
        };

        var outcomes = await ((ISmsProvider)Sinch(_fake)).SendBatchAsync(batch, CancellationToken.None);

        Assert.Equal(2, _fake.Requests.Count);
        var calls = _fake.Requests.Select(r => (r, Json: JsonDocument.Parse(r.Body).RootElement)).ToList();
        Assert.All(calls, c =>
        {
            Assert.Equal(("POST", "/xms/v1/plan1/batches", "Bearer sinch-token"), (c.r.Method, c.r.PathAndQuery, c.r.Authorization));
            Assert.StartsWith("application/json", c.r.ContentType);
            Assert.Equal("+14155550100", c.Json.GetProperty("from").GetString());
            Assert.Equal("mt_text", c.Json.GetProperty("type").GetString());
            Assert.Equal("per_recipient", c.Json.GetProperty("delivery_report").GetString());
            Assert.Equal("https://sms.example.com/webhooks/sinch", c.Json.GetProperty("callback_url").GetString());
            Assert.StartsWith("streams-", c.Json.GetProperty("client_reference").GetString());
        });
        var personalised = calls.Single(c => c.Json.GetProperty("to").GetArrayLength() == 2).Json;
        Assert.Equal("Hi ${p1} your ${p2} is waiting", personalised.GetProperty("body").GetString());
        Assert.Equal("Asha,", personalised.GetProperty("parameters").GetProperty("p1").GetProperty("+919876543210").GetString());
        Assert.Equal("Hat", personalised.GetProperty("parameters").GetProperty("p2").GetProperty("+919876543211").GetString());
        var single = calls.Single(c => c.Json.GetProperty("to").GetArrayLength() == 1).Json;
        Assert.Equal("Hi Meera, your Red Bag is waiting", single.GetProperty("body").GetString());
        Assert.False(single.TryGetProperty("parameters", out _));
        Assert.All(outcomes.Zip(batch), p => Assert.EndsWith(":" + p.Second.To, Assert.IsType<Accepted>(p.First).MessageId));
    }

    [Fact]
    public void Sinch_batches_hold_at_most_1000_recipients_and_a_number_once()
    {
        var many = Enumerable.Range(0, 2_500).Select(i => Sms($"u{i}", $"+91987{i:D7}", "Sale today")).ToList();
        many.Add(Sms("again", "+919870000000", "Sale today"));
        var plan = SinchBatchPlanner.Plan(many);
        Assert.Equal([1000, 1000, 500, 1], plan.Select(b => b.To.Count).ToList());
        Assert.All(plan, b => Assert.Equal(b.To.Count, b.To.Distinct().Count()));
        Assert.Equal(many.Count, plan.Sum(b => b.Members.Count));
    }

    [Fact]
    public async Task Twilio_posts_a_form_with_basic_auth_and_a_status_callback_naming_the_request()
    {
        _fake.Answer = _ => new Reply(201, """{"sid":"SM0001","status":"queued"}""");
        var outcome = await Twilio(_fake).SendAsync(Sms("u1", "+919876543210", "Hi 🛒"), CancellationToken.None);

        Assert.Equal("SM0001", Assert.IsType<Accepted>(outcome).MessageId);
        var r = Assert.Single(_fake.Requests);
        Assert.Equal(("POST", "/2010-04-01/Accounts/AC123/Messages.json"), (r.Method, r.PathAndQuery));
        Assert.Equal("Basic " + Convert.ToBase64String("AC123:twilio-token"u8.ToArray()), r.Authorization);
        Assert.StartsWith("application/x-www-form-urlencoded", r.ContentType);
        var form = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(r.Body);
        Assert.Equal("+919876543210", form["To"]);
        Assert.Equal("+14155550100", form["From"]);
        Assert.Equal("Hi 🛒", form["Body"]);
        Assert.Equal("https://sms.example.com/webhooks/twilio?r=r-cart-u1&c=cart&u=u1&p=twilio", form["StatusCallback"]);
    }

    [Fact]
    public async Task A_campaign_messaging_service_goes_to_twilio_as_MessagingServiceSid_without_a_From()
    {
        _fake.Answer = _ => new Reply(201, """{"sid":"SM0002","status":"accepted"}""");
        var sms = Sms("u1", "+919876543210", "Hi", from: null) with { MessagingService = "MG0123456789abcdef0123456789abcdef" };

        Assert.IsType<Accepted>(await Twilio(_fake).SendAsync(sms, CancellationToken.None));

        var form = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(Assert.Single(_fake.Requests).Body);
        Assert.Equal("MG0123456789abcdef0123456789abcdef", form["MessagingServiceSid"]);
        Assert.False(form.ContainsKey("From"));
        Assert.Equal(["Body", "MessagingServiceSid", "StatusCallback", "To"], form.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void The_send_decision_carries_the_campaign_messaging_service()
    {
        var campaign = Build.Entry(Build.LiveYaml("{provider: twilio, messaging_service: MG0123456789abcdef0123456789abcdef, text: Hi}"));
        var send = Assert.IsType<Send>(SendDecision.Decide(Build.Request("r1", at: Now), campaign, Now));
        Assert.Equal(("MG0123456789abcdef0123456789abcdef", (string?)null), (send.MessagingService, send.From));
    }

    [Theory]
    [InlineData(21610, Reasons.OptedOut)]
    [InlineData(21211, Reasons.InvalidPhone)]
    [InlineData(21614, Reasons.InvalidPhone)]
    [InlineData(21612, "provider_error: twilio 400 21612: unroutable")]
    public async Task Twilio_error_codes_map_to_reasons_and_are_not_retried(int code, string reason)
    {
        _fake.Answer = _ => new Reply(400, $$"""{"code":{{code}},"message":"unroutable","more_info":"https://www.twilio.com/docs/errors/{{code}}","status":400}""");
        var refused = Assert.IsType<Refused>(await Twilio(_fake).SendAsync(Sms("u1", "+919876543210", "Hi"), CancellationToken.None));
        Assert.Equal(reason, refused.Reason);
        Assert.False(refused.Retryable);
        Assert.Single(_fake.Requests);
    }

    [Fact]
    public async Task Too_many_requests_are_retried_with_backoff_until_accepted()
    {
        _fake.Answer = _ => _fake.Requests.Count < 3 ? new Reply(429, """{"code":20429,"message":"Too Many Requests"}""") : new Reply(201, """{"sid":"SM9"}""");
        Assert.IsType<Accepted>(await Twilio(_fake).SendAsync(Sms("u1", "+919876543210", "Hi"), CancellationToken.None));
        Assert.Equal(3, _fake.Requests.Count);
    }

    [Theory]
    [InlineData(500)]
    [InlineData(400)]
    public async Task A_500_or_a_final_4xx_is_not_retried_since_the_provider_may_have_taken_it(int status)
    {
        _fake.Answer = _ => new Reply(status, """{"code":"syntax_invalid_json","text":"nope"}""");
        var refused = Assert.IsType<Refused>(await Sinch(_fake).SendAsync(Sms("u1", "+919876543210", "Hi"), CancellationToken.None));
        Assert.True(refused.Reason.StartsWith($"provider_error: sinch {status}", StringComparison.Ordinal), refused.Reason);
        Assert.Single(_fake.Requests);
    }

    [Fact]
    public async Task A_timeout_is_a_refusal_and_not_retried()
    {
        _fake.Answer = _ => new Reply(201, """{"id":"late"}""", Delay: TimeSpan.FromSeconds(6));
        var refused = Assert.IsType<Refused>(await Sinch(_fake).SendAsync(Sms("u1", "+919876543210", "Hi"), CancellationToken.None));
        Assert.Contains("timed out", refused.Reason);
        Assert.Single(_fake.Requests);
    }

    [Fact]
    public async Task A_slow_answer_within_the_timeout_is_accepted()
    {
        _fake.Answer = _ => new Reply(201, """{"id":"slow"}""", Delay: TimeSpan.FromMilliseconds(200));
        Assert.IsType<Accepted>(await Sinch(_fake).SendAsync(Sms("u1", "+919876543210", "Hi"), CancellationToken.None));
    }

    [Fact]
    public async Task A_group_fails_over_to_the_next_provider_and_stops_calling_one_whose_circuit_opened()
    {
        _fake.Answer = _ => new Reply(503, """{"code":"unavailable","text":"down"}""");
        _other.Answer = _ => new Reply(201, $$"""{"sid":"SM{{_other.Requests.Count}}"}""");
        var group = new FailoverProvider("primary", [Sinch(_fake, Fast with { MaxRetries = 1 }), Twilio(_other)]);

        for (var i = 0; i < 6; i++)
        {
            var accepted = Assert.IsType<Accepted>(await group.SendAsync(Sms($"u{i}", $"+91987654321{i}", "Hi"), CancellationToken.None));
            Assert.Equal(("twilio", "twilio"), (accepted.Via, accepted.ViaKind));
        }
        // Two attempts per message until the breaker saw enough failures; then the open circuit answers without a call.
        var callsWhenOpen = _fake.Requests.Count;
        Assert.InRange(callsWhenOpen, 4, 8);
        await group.SendAsync(Sms("late", "+919876543299", "Hi"), CancellationToken.None);
        Assert.Equal(callsWhenOpen, _fake.Requests.Count);
        Assert.Equal(7, _other.Requests.Count);
    }

    [Fact]
    public async Task A_group_does_not_fail_over_a_final_refusal()
    {
        _fake.Answer = _ => new Reply(400, """{"code":21211,"message":"invalid To"}""");
        var group = new FailoverProvider("primary", [Twilio(_fake), Sinch(_other)]);
        var refused = Assert.IsType<Refused>(await group.SendAsync(Sms("u1", "+919876543210", "Hi"), CancellationToken.None));
        Assert.Equal(Reasons.InvalidPhone, refused.Reason);
        Assert.Empty(_other.Requests);
    }

    [Fact]
    public async Task A_number_twilio_knows_as_unsubscribed_ends_opted_out_and_is_remembered()
    {
        _fake.Answer = _ => new Reply(400, """{"code":21610,"message":"Attempt to send to unsubscribed recipient"}""");
        var counters = Streams.Tests.TestCounters.Create();
        var campaign = CampaignEntry.From(new CampaignRecord("cart", 1, CampaignStatus.Active,
            Core.Campaigns.CampaignSpecParser.Parse("id: cart\nname: Cart\ntype: live\nwho: {trigger: {event: Added To Cart}}\nwhat: {provider: twilio, from: \"+14155550100\", text: Hi}").ToJson(), Now));
        var twilio = Twilio(_fake);
        var handler = new RequestHandler(counters, new FixedProviders(twilio, anyName: true), FixedCampaigns.ForAnyId(campaign), new Microsoft.Extensions.Time.Testing.FakeTimeProvider(Now), NullLogger.Instance, "test");
        var request = Sms("u1", "+919876543210", "Hi").Request;

        var output = await handler.HandleBatchAsync([request], CancellationToken.None);

        var result = Assert.Single(output.Results);
        Assert.Equal((ResultStatus.Suppressed, Reasons.OptedOut), (result.Status, result.Reason));
        Assert.Equal([true], await counters.OptedOutAsync([["phone:+919876543210"]]));
        // Its outcome stays: a redelivery reports it again rather than asking Twilio a second time.
        var again = (await counters.HandOverAsync([new HandOver(request.RequestId, "u1", [])], "other", 1, Now, TimeSpan.FromMinutes(1)))[0];
        Assert.Equal((HandOverState.Outcome, "suppressed|opted_out"), (again.State, again.Detail));
    }

    [Fact]
    public async Task An_http_gateway_gets_the_rendered_json_body_with_bearer_auth_and_its_message_id_is_kept()
    {
        _fake.Answer = _ => new Reply(202, """{"id":"gw-1","queued":true}""");
        var gateway = new HttpGatewayProvider("gw", new HttpGatewaySettings { Url = _fake.Url + "/v1/sms", Token = "gw-token" }, Http, HttpResilience.Build(Fast, TimeProvider.System));

        var outcome = await gateway.SendAsync(Sms("u1", "+919876543210", "Say \"hi\" 🛒"), CancellationToken.None);

        Assert.Equal("gw-1", Assert.IsType<Accepted>(outcome).MessageId);
        var r = Assert.Single(_fake.Requests);
        Assert.Equal(("POST", "/v1/sms", "Bearer gw-token"), (r.Method, r.PathAndQuery, r.Authorization));
        Assert.StartsWith("application/json", r.ContentType);
        var body = JsonDocument.Parse(r.Body).RootElement;
        Assert.Equal(("+919876543210", "+14155550100", "Say \"hi\" 🛒", "r-cart-u1"),
            (body.GetProperty("to").GetString(), body.GetProperty("from").GetString(), body.GetProperty("text").GetString(), body.GetProperty("reference").GetString()));

        _fake.Answer = _ => new Reply(422, """{"error":"bad number"}""");
        var refused = Assert.IsType<Refused>(await gateway.SendAsync(Sms("u2", "+919876543211", "Hi"), CancellationToken.None));
        Assert.Equal("provider_error: gw 422: {\"error\":\"bad number\"}", refused.Reason);
        Assert.Equal(2, _fake.Requests.Count);
    }

    [Fact]
    public async Task An_http_gateway_body_template_may_shape_any_json()
    {
        _fake.Answer = _ => new Reply(200, "OK");
        var gateway = new HttpGatewayProvider("gw", new HttpGatewaySettings
        {
            Url = _fake.Url + "/send",
            Body = """{"msisdn": {{ to | remove: "+" | json }}, "message": {"body": {{ text | json }}, "parts": {{ segments }}}, "tag": {{ campaign_id | json }}}""",
            MessageIdField = null,
        }, Http, HttpResilience.Build(Fast, TimeProvider.System));

        Assert.Equal("r-cart-u1", Assert.IsType<Accepted>(await gateway.SendAsync(Sms("u1", "+919876543210", "Hi"), CancellationToken.None)).MessageId);
        Assert.Equal("""{"msisdn": "919876543210", "message": {"body": "Hi", "parts": 1}, "tag": "cart"}""", Assert.Single(_fake.Requests).Body);
    }

    [Fact]
    public async Task A_sent_request_redelivered_after_its_campaign_completed_keeps_its_one_outcome_sent()
    {
        _fake.Answer = _ => new Reply(201, """{"sid":"SM42"}""");
        var counters = Streams.Tests.TestCounters.Create();
        var record = new CampaignRecord("cart", 1, CampaignStatus.Active,
            Core.Campaigns.CampaignSpecParser.Parse("id: cart\nname: Cart\ntype: live\nwho: {trigger: {event: Added To Cart}}\nwhat: {provider: twilio, from: \"+14155550100\", text: Hi}").ToJson(), Now);
        var view = new Switchable { Entry = CampaignEntry.From(record) };
        var handler = new RequestHandler(counters, new FixedProviders(Twilio(_fake), anyName: true), view, new Microsoft.Extensions.Time.Testing.FakeTimeProvider(Now), NullLogger.Instance, "test");
        var request = Sms("u1", "+919876543210", "Hi").Request;
        Assert.Equal(ResultStatus.Sent, Assert.Single((await handler.HandleBatchAsync([request], CancellationToken.None)).Results).Status);

        view.Entry = CampaignEntry.From(record with { Status = CampaignStatus.Completed });
        var again = Assert.Single((await handler.HandleBatchAsync([request], CancellationToken.None)).Results);

        Assert.Equal((ResultStatus.Sent, (string?)null, "SM42", "twilio"), (again.Status, again.Reason, again.MessageId, again.Provider));
        Assert.Single(_fake.Requests);
        Assert.False((await counters.CampaignCountsAsync("cart")).ContainsKey("suppressed:" + Reasons.CampaignInactive));
    }

    private sealed class Switchable : ICampaignView
    {
        public CampaignEntry? Entry { get; set; }
        public CampaignEntry? Get(string campaignId) => Entry;
    }

}
