using Streams.Core;

namespace Streams.Dispatcher.Providers;

/// <summary>
/// A failover group (<c>provider: &lt;group&gt;</c>): every message goes to the first member; what a member refuses
/// as retryable (its circuit is open, or 429 / gateway errors outlasted its retries: it never took the message)
/// goes to the next member. A final refusal (bad number, opted out, auth) is final for the group too.
/// </summary>
public sealed class FailoverProvider(string name, IReadOnlyList<ISmsProvider> members) : ISmsProvider
{
    public const string TypeName = "group";

    public string Name => name;
    public bool CanFind => members.All(m => m.CanFind);
    public bool PrefersBatches => members[0].PrefersBatches;

    public async Task<SendOutcome> SendAsync(OutboundSms sms, CancellationToken ct) =>
        (await ((ISmsProvider)this).SendBatchAsync([sms], ct))[0];

    public async Task<IReadOnlyList<SendOutcome>> SendBatchAsync(IReadOnlyList<OutboundSms> batch, CancellationToken ct)
    {
        var outcomes = new SendOutcome[batch.Count];
        var pending = Enumerable.Range(0, batch.Count).ToList();
        foreach (var member in members)
        {
            if (pending.Count == 0) break;
            var answers = await member.SendBatchAsync(pending.Select(i => batch[i]).ToList(), ct);
            var next = new List<int>();
            for (var k = 0; k < pending.Count; k++)
            {
                outcomes[pending[k]] = answers[k] is Accepted a ? a with { Via = a.Via ?? member.Name, ViaKind = a.ViaKind ?? member.Kind } : answers[k];
                if (answers[k] is Refused { Retryable: true }) next.Add(pending[k]);
            }
            pending = next;
        }
        return outcomes;
    }

    public async Task<string?> FindAsync(string requestId, CancellationToken ct)
    {
        foreach (var m in members)
        {
            if (await m.FindAsync(requestId, ct) is { } id) return id;
        }
        return null;
    }
}
