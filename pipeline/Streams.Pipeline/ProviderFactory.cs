using Polly;
using Streams.Dispatcher.Providers;

namespace Streams.Pipeline;

/// <summary>Providers by the names campaigns use: the configured ones, and `sandbox` always.</summary>
public static class ProviderFactory
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
    {
        Timeout = Timeout.InfiniteTimeSpan, // the resilience pipeline times each attempt
    };

    public static IEnumerable<string> Names(StreamsOptions options) => options.Providers.Keys.Append(SandboxProvider.TypeName).Distinct();

    public static ISmsProvider Create(StreamsOptions options, string name, TimeProvider time, IDeliveryReports reports, Counters.ICounterStore? counters = null)
    {
        if (!Names(options).Contains(name))
            throw new ConfigException($"no provider named '{name}' (configured: {string.Join(", ", Names(options))})");
        var o = options.Providers.GetValueOrDefault(name) ?? new StreamsOptions.ProviderOptions();
        var resilience = new ResilienceSettings
        {
            Timeout = TimeSpan.FromMilliseconds(o.TimeoutMs),
            MaxRetries = o.MaxRetries,
            RetryDelay = TimeSpan.FromMilliseconds(o.RetryDelayMs),
            BreakFor = TimeSpan.FromMilliseconds(o.BreakForMs),
        };
        return o.Type switch
        {
            SinchProvider.TypeName => new SinchProvider(name, new SinchSettings
            {
                BaseUrl = o.BaseUrl ?? $"https://{o.Region ?? "us"}.sms.api.sinch.com",
                ServicePlanId = o.ServicePlanId!,
                Token = o.Secret(name),
                From = o.From,
                CallbackUrl = o.CallbackUrl,
            }, Http, HttpResilience.Build(resilience, time)),
            TwilioProvider.TypeName => new TwilioProvider(name, new TwilioSettings
            {
                BaseUrl = o.BaseUrl ?? "https://api.twilio.com",
                AccountSid = o.AccountSid!,
                AuthToken = o.Secret(name),
                From = o.From,
                MessagingServiceSid = o.MessagingServiceSid,
                StatusCallback = o.CallbackUrl,
            }, Http, HttpResilience.Build(resilience, time)),
            KannelProvider.TypeName => new KannelProvider(name, new KannelSettings
            {
                BaseUrl = o.BaseUrl!,
                Username = o.Username!,
                Password = o.Secret(name),
                From = o.From,
                DlrUrl = o.CallbackUrl,
                DlrSecret = o.WebhookSecretEnv is { } secretEnv ? o.Secret(name, secretEnv, "webhook secret") : null,
            }, Http, HttpResilience.Build(resilience, time)),
            HttpGatewayProvider.TypeName => new HttpGatewayProvider(name, new HttpGatewaySettings
            {
                Url = o.Url!,
                Body = o.Body ?? HttpGatewaySettings.DefaultBody,
                Token = o.TokenEnv is not null || o.TokenFile is not null ? o.Secret(name) : null,
                MessageIdField = string.IsNullOrEmpty(o.MessageIdField) ? null : o.MessageIdField,
            }, Http, HttpResilience.Build(resilience, time)),
            FailoverProvider.TypeName => new FailoverProvider(name,
                [.. o.Members.Select(m => counters is null ? Create(options, m, time, reports) : CreatePaced(options, m, time, reports, counters))]),
            _ => new SandboxProvider(name, Path.Combine(options.StateDir, "outbox.jsonl"), time, reports),
        };
    }

    /// <summary>The provider with the dispatcher's middleware around it: pacing when a rate is configured.</summary>
    public static ISmsProvider CreatePaced(StreamsOptions options, string name, TimeProvider time, IDeliveryReports reports, Counters.ICounterStore counters)
    {
        var provider = Create(options, name, time, reports, counters);
        return options.Providers.GetValueOrDefault(name) is { Rate: { } rate } settings
            ? new PacedProvider(provider, counters, time, rate, settings.Burst)
            : provider;
    }
}
