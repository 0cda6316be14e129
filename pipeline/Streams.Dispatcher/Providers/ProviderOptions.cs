using Microsoft.Extensions.Configuration;
using Streams.Core;

namespace Streams.Dispatcher.Providers;

/// <summary>One provider section of the configuration (providers.<name>); which keys a type reads is its kind's.</summary>
public sealed class ProviderOptions
{
    public string Type { get; set; } = "sandbox";

    /// <summary>API base URL (sinch: the region's, e.g. https://eu.sms.api.sinch.com; twilio: https://api.twilio.com).</summary>
    [ConfigurationKeyName("base_url")]
    public string? BaseUrl { get; set; }

    /// <summary>sinch: us, eu, au, br or ca, when base_url is not given.</summary>
    public string? Region { get; set; }

    [ConfigurationKeyName("service_plan_id")]
    public string? ServicePlanId { get; set; }

    [ConfigurationKeyName("account_sid")]
    public string? AccountSid { get; set; }

    /// <summary>http: where to POST, the body template (Liquid), and the answer's message id field.</summary>
    public string? Url { get; set; }

    public string? Body { get; set; }

    [ConfigurationKeyName("message_id_field")]
    public string? MessageIdField { get; set; } = "id";

    /// <summary>kannel: the sendsms-user (its password comes from token_env / token_file).</summary>
    public string? Username { get; set; }

    /// <summary>The API secret comes from this environment variable, or from the file at token_file; never from this file.</summary>
    [ConfigurationKeyName("token_env")]
    public string? TokenEnv { get; set; }

    [ConfigurationKeyName("token_file")]
    public string? TokenFile { get; set; }

    /// <summary>sinch: the secret its webhook signatures are made with (environment variable name).</summary>
    [ConfigurationKeyName("webhook_secret_env")]
    public string? WebhookSecretEnv { get; set; }

    public string? From { get; set; }

    [ConfigurationKeyName("messaging_service_sid")]
    public string? MessagingServiceSid { get; set; }

    /// <summary>This pipeline's webhook for the provider as the provider reaches it, e.g. https://sms.example.com/webhooks/sinch.</summary>
    [ConfigurationKeyName("callback_url")]
    public string? CallbackUrl { get; set; }

    /// <summary>group: the failover order.</summary>
    public List<string> Members { get; set; } = [];

    [ConfigurationKeyName("timeout_ms")]
    public int TimeoutMs { get; set; } = 10_000;

    [ConfigurationKeyName("max_retries")]
    public int MaxRetries { get; set; } = 3;

    [ConfigurationKeyName("retry_delay_ms")]
    public int RetryDelayMs { get; set; } = 200;

    [ConfigurationKeyName("break_for_ms")]
    public int BreakForMs { get; set; } = 30_000;

    /// <summary>The secret, read when needed: from the named environment variable or the file.</summary>
    public string Secret(string name, string? envName = null, string what = "token")
    {
        envName ??= TokenEnv;
        if (envName is not null)
            return Environment.GetEnvironmentVariable(envName) is { Length: > 0 } v
                ? v
                : throw new ConfigException($"providers.{name}: environment variable {envName} ({what}) is not set");
        if (what == "token" && TokenFile is not null)
            return File.Exists(TokenFile)
                ? File.ReadAllText(TokenFile).Trim()
                : throw new ConfigException($"providers.{name}: token_file {TokenFile} not found");
        throw new ConfigException($"providers.{name}: set token_env or token_file (secrets never go in the configuration file)");
    }

    /// <summary>How long after a send a delivery report must come before the request ends expired (no_delivery_report).</summary>
    [ConfigurationKeyName("report_timeout")]
    public string? ReportTimeout { get; set; }

    public TimeSpan? ReportTimeoutSpan => ReportTimeout is null ? null : Core.Campaigns.Durations.TryParse(ReportTimeout, out var t) ? t : null;

    /// <summary>Messages per second across every dispatcher; absent means unpaced.</summary>
    public double? Rate { get; set; }

    public int Burst { get; set; } = 1;

    /// <summary>Calls to this provider in flight at once (a batch API's call counts as one): a slow call does not hold the others.</summary>
    public int Concurrency { get; set; } = RequestHandler.DefaultConcurrency;
}
