using Streams.Core;
using Streams.Dispatcher.Webhooks;

namespace Streams.Dispatcher.Providers;

public sealed class KannelKind : ProviderKind
{
    public override string TypeName => KannelProvider.TypeName;

    public override IReadOnlyList<string> Keys =>
        ["base_url", "username", "token_env", "token_file", "webhook_secret_env", "from", "callback_url"];

    public override string? Problem(string name, ProviderOptions o, IReadOnlyDictionary<string, ProviderOptions> all)
    {
        if (o.BaseUrl is null || o.Username is null) return $"providers.{name}: kannel needs base_url and username";
        return HasSecret(o) ? null : $"providers.{name}: set token_env or token_file (the sendsms password)";
    }

    public override ISmsProvider Create(string name, ProviderOptions o, ProviderContext context) => new KannelProvider(name, new KannelSettings
    {
        BaseUrl = o.BaseUrl!,
        Username = o.Username!,
        Password = o.Secret(name),
        From = o.From,
        DlrUrl = o.CallbackUrl,
        DlrSecret = o.WebhookSecretEnv is { } secretEnv ? o.Secret(name, secretEnv, "webhook secret") : null,
    }, context.Http, HttpResilience.Build(Resilience(o), context.Time));

    /// <summary>Kannel's dlr-url call: %d is 1 delivered, 2 not delivered to the phone, 16 not delivered to the SMSC; 4 and 8 are on the way.</summary>
    public static ParsedReport Report(MessageNote? named, string? type)
    {
        if (named is null || !int.TryParse(type, System.Globalization.CultureInfo.InvariantCulture, out var mask))
            return new WebhookAnswer(400, "missing fields", "a Kannel report names r (request id) and s (the %d report type)");
        string? status = mask switch
        {
            1 => ResultStatus.Delivered,
            2 => ResultStatus.Undelivered,
            16 => ResultStatus.Failed,
            _ => null,
        };
        if (status is null) return WebhookAnswer.Ignored($"report type {mask} is not final");
        return new DeliveryReport(KannelProvider.TypeName, named.RequestId, status, status == ResultStatus.Delivered ? null : $"kannel report {mask}");
    }

    /// <summary>
    /// Kannel calls the dlr-url with GET and signs nothing: the shared secret it was given (k) must come back. Null when
    /// <paramref name="given"/> matches a configured secret (or none is configured), else why not.
    /// </summary>
    public static string? DlrSecretProblem(IReadOnlyDictionary<string, ProviderOptions> all, string? given)
    {
        var secrets = WebhookSecrets(KannelProvider.TypeName, all);
        return secrets.Count > 0 && (given is null || !secrets.Any(s => Webhooks.Secrets.FixedEquals(s, given)))
            ? "the dlr-url secret (k) does not match"
            : null;
    }
}
