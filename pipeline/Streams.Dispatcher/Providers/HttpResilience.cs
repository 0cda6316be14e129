using System.Net;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace Streams.Dispatcher.Providers;

/// <summary>How a provider's HTTP calls are protected; from configuration (providers.&lt;name&gt;.resilience).</summary>
public sealed record ResilienceSettings
{
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);
    public int MaxRetries { get; init; } = 3;
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(200);
    public double BreakAtFailureRatio { get; init; } = 0.5;
    public int BreakMinimumCalls { get; init; } = 10;
    public TimeSpan BreakSampling { get; init; } = TimeSpan.FromSeconds(30);
    public TimeSpan BreakFor { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// Polly around every provider call: a timeout per attempt, retries with jittered exponential backoff, and one
/// circuit breaker per provider. Retried: 429 and gateway errors (502, 503, 504) and connections that failed
/// before an answer, where the provider did not take the message. Not retried: a timeout or a 500 after the
/// request was sent (the provider may have accepted it: sending again could deliver twice) and every other 4xx.
/// </summary>
public static class HttpResilience
{
    public static bool Retryable(HttpStatusCode status) =>
        status is HttpStatusCode.TooManyRequests or HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout;

    /// <summary>A server error that is not a gateway's "never got it": the provider may have taken the message.</summary>
    public static bool MayHaveTaken(HttpStatusCode status) => (int)status >= 500 && !Retryable(status);

    public static ResiliencePipeline<HttpResponseMessage> Build(ResilienceSettings s, TimeProvider time)
    {
        var retryable = new PredicateBuilder<HttpResponseMessage>()
            .Handle<HttpRequestException>(e => e.StatusCode is null && e.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError)
            .HandleResult(r => Retryable(r.StatusCode));
        var failing = new PredicateBuilder<HttpResponseMessage>()
            .Handle<HttpRequestException>()
            .Handle<TimeoutRejectedException>()
            .HandleResult(r => (int)r.StatusCode >= 500 || r.StatusCode == HttpStatusCode.TooManyRequests);
        return new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = time }
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions<HttpResponseMessage>
            {
                ShouldHandle = failing,
                FailureRatio = s.BreakAtFailureRatio,
                MinimumThroughput = Math.Max(2, s.BreakMinimumCalls),
                SamplingDuration = s.BreakSampling,
                BreakDuration = s.BreakFor,
            })
            .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                ShouldHandle = retryable,
                MaxRetryAttempts = Math.Max(1, s.MaxRetries),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = s.RetryDelay,
                // A Retry-After from the provider (429) wins over the computed delay.
                DelayGenerator = args => ValueTask.FromResult(args.Outcome.Result?.Headers.RetryAfter?.Delta is { } after && after < TimeSpan.FromSeconds(30) ? after : (TimeSpan?)null),
            })
            .AddTimeout(s.Timeout)
            .Build();
    }

    /// <summary>Sends through the pipeline; an open circuit, a timeout or a failed connection become a refusal, never an exception.</summary>
    public static async Task<(HttpResponseMessage? Response, Refused? Refused)> SendAsync(
        ResiliencePipeline<HttpResponseMessage> pipeline, HttpClient http, Func<HttpRequestMessage> request, string provider, CancellationToken ct)
    {
        try
        {
            var response = await pipeline.ExecuteAsync(async token => await http.SendAsync(request(), token), ct);
            return (response, null);
        }
        catch (BrokenCircuitException)
        {
            return (null, new Refused($"{Core.Reasons.ProviderError}: {provider} circuit open", Final: false, Retryable: true));
        }
        catch (TimeoutRejectedException)
        {
            return (null, new Refused($"{Core.Reasons.ProviderError}: {provider} timed out (not retried: it may have taken the message)", Final: true, MayHaveBeenTaken: true));
        }
        catch (HttpRequestException e)
        {
            var beforeSending = e.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError;
            return (null, new Refused($"{Core.Reasons.ProviderError}: {provider} unreachable: {e.Message}", Final: !beforeSending, Retryable: beforeSending, MayHaveBeenTaken: !beforeSending));
        }
    }
}
