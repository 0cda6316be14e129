using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Polly;
using Streams.Core;

namespace Streams.Dispatcher.Providers;

public sealed record SinchSettings
{
    /// <summary>Region base URL, e.g. https://eu.sms.api.sinch.com (us, eu, au, br, ca).</summary>
    public string BaseUrl { get; init; } = "https://us.sms.api.sinch.com";
    public required string ServicePlanId { get; init; }
    public required string Token { get; init; }
    public string? From { get; init; }

    /// <summary>Our /webhooks/sinch as Sinch will call it; absent means no delivery reports.</summary>
    public string? CallbackUrl { get; init; }
}

/// <summary>
/// Sinch XMS batches (a thin client: the Sinch .NET SDK is not served here): up to 1000 recipients per call,
/// personalised with <c>parameters</c> where texts differ only in some words (<see cref="SinchBatchPlanner"/>),
/// <c>delivery_report: per_recipient</c> to our callback, and a <c>client_reference</c> derived from the batch's
/// request ids. A message id is "batch id:recipient", which is what a per-recipient report names.
/// </summary>
public sealed class SinchProvider(string name, SinchSettings settings, HttpClient http, ResiliencePipeline<HttpResponseMessage> resilience) : ISmsProvider
{
    public const string TypeName = "sinch";

    public string Name => name;
    public string Kind => TypeName;
    public bool PrefersBatches => true;

    public async Task<SendOutcome> SendAsync(OutboundSms sms, CancellationToken ct) => (await SendBatchAsync([sms], ct))[0];

    public async Task<IReadOnlyList<SendOutcome>> SendBatchAsync(IReadOnlyList<OutboundSms> batch, CancellationToken ct)
    {
        var outcomes = new SendOutcome[batch.Count];
        await Task.WhenAll(SinchBatchPlanner.Plan(batch).Select(async planned =>
        {
            var outcome = await SendOneAsync(planned, batch, ct);
            foreach (var (m, k) in planned.Members.Select((m, k) => (m, k)))
                outcomes[m] = outcome is Accepted a ? new Accepted($"{a.MessageId}:{planned.To[k]}") : outcome;
        }));
        return outcomes;
    }

    public static string ClientReference(IEnumerable<string> requestIds)
    {
        var joined = string.Join("\n", requestIds.Order(StringComparer.Ordinal));
        return "streams-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(joined)))[..32];
    }

    private async Task<SendOutcome> SendOneAsync(SinchBatch planned, IReadOnlyList<OutboundSms> batch, CancellationToken ct)
    {
        var from = planned.From ?? settings.From;
        if (from is null) return new Refused($"{Reasons.ProviderError}: {name} has no from number", Final: true);
        var body = new JsonObject
        {
            ["from"] = from,
            ["to"] = new JsonArray([.. planned.To.Select(t => (JsonNode)t)]),
            ["body"] = planned.Body,
            ["type"] = "mt_text",
            ["delivery_report"] = settings.CallbackUrl is null ? "none" : "per_recipient",
            ["client_reference"] = ClientReference(planned.Members.Select(m => batch[m].Request.RequestId)),
        };
        if (settings.CallbackUrl is { } callback) body["callback_url"] = callback;
        if (planned.Parameters is { } parameters)
        {
            var p = new JsonObject();
            foreach (var (key, values) in parameters)
            {
                var perRecipient = new JsonObject();
                foreach (var (to, value) in values) perRecipient[to] = value;
                p[key] = perRecipient;
            }
            body["parameters"] = p;
        }
        var json = body.ToJsonString();
        var url = $"{settings.BaseUrl.TrimEnd('/')}/xms/v1/{settings.ServicePlanId}/batches";
        var (response, refused) = await HttpResilience.SendAsync(resilience, http, () => new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new StringContent(json, Encoding.UTF8, "application/json"),
            Headers = { Authorization = new AuthenticationHeaderValue("Bearer", settings.Token) },
        }, name, ct);
        if (refused is not null) return refused;
        using (response)
        {
            var text = await response!.Content.ReadAsStringAsync(ct);
            var answer = ProviderAnswer.Json(text);
            if (response.IsSuccessStatusCode && ProviderAnswer.Field(answer, "id") is { Length: > 0 } batchId)
                return new Accepted(batchId);
            var code = ProviderAnswer.Field(answer, "code");
            var detail = ProviderAnswer.Field(answer, "text") ?? text;
            return new Refused($"{Reasons.ProviderError}: sinch {(int)response.StatusCode}{(code is null ? "" : $" {code}")}: {detail}", Final: true,
                Retryable: HttpResilience.Retryable(response.StatusCode), MayHaveBeenTaken: HttpResilience.MayHaveTaken(response.StatusCode));
        }
    }


}
