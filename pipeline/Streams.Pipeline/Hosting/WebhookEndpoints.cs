using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Streams.Core;
using Streams.Dispatcher.Providers;
using Streams.Dispatcher.Webhooks;
using Streams.Kafka;

namespace Streams.Pipeline.Hosting;

/// <summary>
/// Provider webhooks: delivery reports (/webhooks/sinch, /webhooks/twilio) and inbound messages
/// (/webhooks/inbound/{provider}, STOP/START/HELP and everything else, to sms.inbound). Signatures are checked
/// when the provider's secret is configured (401 otherwise); bodies over 64 KiB get 413; every 4xx/5xx carries a
/// JSON problem; 2xx only once the record is in Kafka.
/// </summary>
public static class WebhookEndpoints
{
    public const int MaxBody = 64 * 1024;

    public static void MapWebhooks(this WebApplication app)
    {
        app.MapPost("/webhooks/twilio", async (HttpContext http, StreamsOptions options, DeliveryReportHandler webhooks) =>
        {
            var (form, problem) = await ReadTwilioAsync(http, options);
            if (problem is not null) return problem;
            return Answer(await webhooks.TwilioAsync(form!, Named(http.Request.Query)));
        });

        app.MapPost("/webhooks/sinch", async (HttpContext http, StreamsOptions options, DeliveryReportHandler webhooks) =>
        {
            var (body, problem) = await ReadSinchAsync(http, options);
            if (problem is not null) return problem;
            return Answer(await webhooks.SinchAsync(body));
        });

        // Kannel calls the dlr-url with GET and signs nothing: the shared secret it was given (k) must come back.
        app.MapGet("/webhooks/kannel", async (HttpContext http, StreamsOptions options, DeliveryReportHandler webhooks) =>
        {
            if (!options.Providers.Values.Any(p => p.Type == KannelProvider.TypeName))
                return Problem(404, "no kannel provider", "no provider of type kannel is configured");
            if (KannelKind.DlrSecretProblem(options.Providers, http.Request.Query["k"].FirstOrDefault()) is { } bad)
                return Problem(401, "bad secret", bad);
            return Answer(await webhooks.KannelAsync(Named(http.Request.Query), http.Request.Query["s"].FirstOrDefault()));
        });

        app.MapPost("/webhooks/inbound/{provider}", async (string provider, HttpContext http, StreamsOptions options, TimeProvider time, Topics topics,
            IProducer<string, byte[]> producer) =>
        {
            InboundMessage message;
            var now = time.GetUtcNow();
            switch (provider)
            {
                case TwilioProvider.TypeName:
                    var (form, twilioProblem) = await ReadTwilioAsync(http, options);
                    if (twilioProblem is not null) return twilioProblem;
                    if (TwilioKind.Inbound(form!, now) is not { } fromTwilio)
                        return Problem(400, "missing fields", "an inbound Twilio message has From, Body and MessageSid");
                    message = fromTwilio;
                    break;
                case SinchProvider.TypeName:
                    var (body, sinchProblem) = await ReadSinchAsync(http, options);
                    if (sinchProblem is not null) return sinchProblem;
                    if (SinchKind.Inbound(body, now) is not { } fromSinch)
                        return Problem(400, "missing fields", "an inbound Sinch message has id, from and body");
                    message = fromSinch;
                    break;
                default:
                    return Problem(404, "unknown provider", $"no inbound webhook for '{provider}' (sinch, twilio)");
            }
            await topics.Inbound.ProduceAsync(producer, message.From, message);
            return Results.StatusCode(204);
        });
    }

    /// <summary>The request a callback URL names (r, c, u, p; n and e when given), or null when it names none.</summary>
    private static Dispatcher.MessageNote? Named(IQueryCollection q) =>
        q["r"].FirstOrDefault() is { Length: > 0 } r && q["c"].FirstOrDefault() is { Length: > 0 } c && q["u"].FirstOrDefault() is { Length: > 0 } u
            ? new Dispatcher.MessageNote(r, c, u, q["p"].FirstOrDefault() ?? "",
                int.TryParse(q["n"].FirstOrDefault(), System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : 0, q["e"].FirstOrDefault() ?? "")
            : null;

    private static IResult Answer(WebhookAnswer a) => a.Status switch
    {
        204 => Results.StatusCode(204),
        < 300 => Results.Json(new { status = "ignored", detail = a.Detail }, statusCode: a.Status),
        _ => Problem(a.Status, a.Title ?? "error", a.Detail),
    };

    public static IResult Problem(int status, string title, string? detail) => Results.Problem(detail, statusCode: status, title: title);

    private static async Task<(string? Body, IResult? Problem)> ReadBodyAsync(HttpContext http)
    {
        if (http.Request.ContentLength > MaxBody) return (null, Problem(413, "body too large", $"at most {MaxBody} bytes"));
        var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await http.Request.Body.ReadAsync(chunk, http.RequestAborted)) > 0)
        {
            if (buffer.Length + read > MaxBody) return (null, Problem(413, "body too large", $"at most {MaxBody} bytes"));
            buffer.Write(chunk, 0, read);
        }
        return (Encoding.UTF8.GetString(buffer.ToArray()), null);
    }

    private static async Task<(Dictionary<string, string>? Form, IResult? Problem)> ReadTwilioAsync(HttpContext http, StreamsOptions options)
    {
        var (raw, problem) = await ReadBodyAsync(http);
        if (problem is not null) return (null, problem);
        var form = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(raw).ToDictionary(p => p.Key, p => p.Value.ToString());
        var twilios = options.Providers.Where(p => p.Value.Type == TwilioProvider.TypeName).ToList();
        if (twilios.Count == 0) return (null, Problem(404, "no twilio provider", "no provider of type twilio is configured"));
        var signature = http.Request.Headers["X-Twilio-Signature"].FirstOrDefault();
        foreach (var (name, o) in twilios)
        {
            // The URL as Twilio called it: the public origin of the configured callback URL (a proxy may rewrite the host),
            // then the path and query this request came with.
            var url = o.CallbackUrl is { } callback && Uri.TryCreate(callback, UriKind.Absolute, out var origin)
                ? $"{origin.GetLeftPart(UriPartial.Authority)}{http.Request.PathBase}{http.Request.Path}{http.Request.QueryString}"
                : $"{http.Request.Scheme}://{http.Request.Host}{http.Request.Path}{http.Request.QueryString}";
            if (TwilioSignature.Valid(o.Secret(name), url, form, signature)) return (form, null);
        }
        return (null, Problem(401, "bad signature", "X-Twilio-Signature does not match"));
    }

    private static async Task<(JsonElement Body, IResult? Problem)> ReadSinchAsync(HttpContext http, StreamsOptions options)
    {
        var (raw, problem) = await ReadBodyAsync(http);
        if (problem is not null) return (default, problem);
        var secrets = SinchKind.WebhookSecrets(options.Providers);
        if (secrets.Count > 0)
        {
            var h = http.Request.Headers;
            if (!secrets.Any(s => SinchSignature.Valid(s, raw!, h["x-sinch-webhook-signature-nonce"].FirstOrDefault(),
                    h["x-sinch-webhook-signature-timestamp"].FirstOrDefault(), h["x-sinch-webhook-signature-algorithm"].FirstOrDefault(),
                    h["x-sinch-webhook-signature"].FirstOrDefault())))
                return (default, Problem(401, "bad signature", "x-sinch-webhook-signature does not match"));
        }
        try
        {
            return (JsonDocument.Parse(raw!).RootElement.Clone(), null);
        }
        catch (JsonException e)
        {
            return (default, Problem(400, "bad JSON", e.Message));
        }
    }
}
