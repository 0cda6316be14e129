using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Fluid;
using Polly;
using Streams.Core;

namespace Streams.Dispatcher.Providers;

public sealed record HttpGatewaySettings
{
    public required string Url { get; init; }

    /// <summary>The request body, a Liquid template (use <c>| json</c> to quote values): to, from, text, request_id, campaign_id, user_id, encoding, segments.</summary>
    public string Body { get; init; } = DefaultBody;

    /// <summary>Sent as "Authorization: Bearer ..." when set.</summary>
    public string? Token { get; init; }

    /// <summary>The field of the JSON answer holding the gateway's message id; absent means our request id is the message id.</summary>
    public string? MessageIdField { get; init; } = "id";

    public const string DefaultBody =
        """{"to": {{ to | json }}, "from": {{ from | json }}, "text": {{ text | json }}, "reference": {{ request_id | json }}}""";
}

/// <summary>
/// An in-house gateway: one JSON POST per message to a configured URL, its body rendered from a Liquid template.
/// 2xx is accepted (the message id read from the answer's <c>message_id_field</c> when present); 429 and gateway errors
/// are retried by the resilience pipeline; any other answer is a final refusal carrying the gateway's words.
/// </summary>
public sealed class HttpGatewayProvider : ISmsProvider
{
    public const string TypeName = "http";
    private static readonly FluidParser Parser = new();
    private static readonly TemplateOptions Options = new() { CultureInfo = CultureInfo.InvariantCulture };

    private readonly string _name;
    private readonly HttpGatewaySettings _settings;
    private readonly HttpClient _http;
    private readonly ResiliencePipeline<HttpResponseMessage> _resilience;
    private readonly IFluidTemplate _body;

    public HttpGatewayProvider(string name, HttpGatewaySettings settings, HttpClient http, ResiliencePipeline<HttpResponseMessage> resilience)
    {
        _name = name;
        _settings = settings;
        _http = http;
        _resilience = resilience;
        _body = Parse(settings.Body, out var error) ?? throw new ArgumentException(error, nameof(settings));
    }

    /// <summary>Parses a body template; null with the reason when it is not valid Liquid.</summary>
    public static IFluidTemplate? Parse(string body, out string? error) =>
        Parser.TryParse(body, out var template, out error) ? template : null;

    public string Name => _name;
    public string Kind => TypeName;

    public string Render(OutboundSms sms)
    {
        var context = new TemplateContext(Options);
        context.SetValue("to", sms.To);
        context.SetValue("from", sms.From);
        context.SetValue("text", sms.Text);
        context.SetValue("request_id", sms.Request.RequestId);
        context.SetValue("campaign_id", sms.Request.CampaignId);
        context.SetValue("user_id", sms.Request.UserId);
        context.SetValue("encoding", sms.Info.Encoding);
        context.SetValue("segments", sms.Info.Segments);
        return _body.Render(context);
    }

    public async Task<SendOutcome> SendAsync(OutboundSms sms, CancellationToken ct)
    {
        var body = Render(sms);
        var (response, refused) = await HttpResilience.SendAsync(_resilience, _http, () =>
        {
            var request = new HttpRequestMessage(HttpMethod.Post, _settings.Url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            if (_settings.Token is { } token) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            return request;
        }, _name, ct);
        if (refused is not null) return refused;
        using (response)
        {
            var text = await response!.Content.ReadAsStringAsync(ct);
            if (!response.IsSuccessStatusCode)
                return new Refused($"{Reasons.ProviderError}: {_name} {(int)response.StatusCode}: {(text.Length > 200 ? text[..200] : text)}", Final: true,
                    Retryable: HttpResilience.Retryable(response.StatusCode), MayHaveBeenTaken: HttpResilience.MayHaveTaken(response.StatusCode));
            return new Accepted(_settings.MessageIdField is { } field && ProviderAnswer.Field(ProviderAnswer.Json(text), field) is { } id
                ? id
                : sms.Request.RequestId);
        }
    }


}
