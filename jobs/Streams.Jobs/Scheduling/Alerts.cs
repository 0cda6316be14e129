using System.Diagnostics.Metrics;
using System.Net.Http.Json;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Streams.Core.Schedules;
using Streams.Kafka;

namespace Streams.Jobs.Scheduling;

/// <summary>Raises an alert everywhere an operator may look.</summary>
public interface IAlerts
{
    Task RaiseAsync(Alert alert, IReadOnlyDictionary<string, object?> details, CancellationToken ct);
}

/// <summary>
/// An alert is an error in the log, a count in streams_alerts_total, a record on sms.alerts and, when
/// <c>alerts.webhook</c> is configured, a JSON POST there (three tries; a webhook that does not answer is logged, it
/// never stops the scheduler).
/// </summary>
public sealed class Alerts(IProducer<string, byte[]>? producer, Topics topics, Uri? webhook, HttpClient? http, ILogger logger) : IAlerts
{
    private static readonly Counter<long> Raised = Telemetry.Meter.CreateCounter<long>("streams_alerts", description: "Alerts raised, by kind.");

    public async Task RaiseAsync(Alert alert, IReadOnlyDictionary<string, object?> details, CancellationToken ct)
    {
        logger.LogError("ALERT {Kind}: campaign {Campaign} run {Run}: {Message}", alert.Kind, alert.CampaignId, alert.RunId, alert.Message);
        Raised.Add(1, new KeyValuePair<string, object?>("kind", alert.Kind));
        try
        {
            if (producer is not null) await topics.Alerts.ProduceAsync(producer, alert.CampaignId, alert, ct);
        }
        catch (KafkaException e)
        {
            // The webhook still hears of it.
            logger.LogWarning("alert not written to {Topic}: {Error}", topics.Alerts.Name, e.Error.Reason);
        }
        if (webhook is null || http is null) return;
        var body = new Dictionary<string, object?>
        {
            ["kind"] = alert.Kind, ["campaign_id"] = alert.CampaignId, ["run_id"] = alert.RunId, ["message"] = alert.Message,
            ["ts"] = alert.Ts.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture),
        };
        foreach (var (k, v) in details) body[k] = v;
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                timeout.CancelAfter(TimeSpan.FromSeconds(10));
                using var response = await http.PostAsJsonAsync(webhook, body, timeout.Token);
                if (response.IsSuccessStatusCode) return;
                logger.LogWarning("alerts.webhook answered {Status} (try {Attempt} of 3)", (int)response.StatusCode, attempt);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
            {
                logger.LogWarning("alerts.webhook failed: {Error} (try {Attempt} of 3)", e.Message, attempt);
            }
            if (attempt < 3) await Task.Delay(TimeSpan.FromMilliseconds(500 * attempt), ct);
        }
    }
}
