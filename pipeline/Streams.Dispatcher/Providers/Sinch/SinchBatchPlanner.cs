namespace Streams.Dispatcher.Providers;

/// <summary>One Sinch batch: a body (with <c>${pN}</c> placeholders when personalised) and its recipients.</summary>
public sealed record SinchBatch(string? From, string Body, IReadOnlyList<int> Members, IReadOnlyList<string> To,
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>>? Parameters);

/// <summary>
/// Packs messages into as few Sinch calls as it can. Messages of one campaign and sender whose texts have the same
/// words except at some positions become one batch with <c>parameters</c> (the differing words, per recipient);
/// texts that cannot be lined up that way are grouped by identical text. At most 1000 recipients per batch, and a
/// number appears once per batch (a second message to it goes in another batch).
/// </summary>
public static class SinchBatchPlanner
{
    public const int MaxRecipients = 1000;
    private const int MaxParameters = 20;

    public static IReadOnlyList<SinchBatch> Plan(IReadOnlyList<OutboundSms> messages)
    {
        var batches = new List<SinchBatch>();
        var groups = Enumerable.Range(0, messages.Count)
            .GroupBy(i => (messages[i].Request.CampaignId, messages[i].From, Words: messages[i].Text.Split(' ').Length));
        foreach (var group in groups)
        {
            // Rounds keep each number once per batch.
            var rounds = new List<List<int>>();
            foreach (var i in group)
            {
                var round = rounds.FirstOrDefault(r => r.All(j => messages[j].To != messages[i].To));
                if (round is null) rounds.Add(round = []);
                round.Add(i);
            }
            foreach (var round in rounds)
            {
                foreach (var chunk in round.Chunk(MaxRecipients)) batches.AddRange(Personalise(messages, chunk));
            }
        }
        return batches;
    }

    private static IEnumerable<SinchBatch> Personalise(IReadOnlyList<OutboundSms> messages, int[] members)
    {
        var words = members.Select(i => messages[i].Text.Split(' ')).ToList();
        var differing = Enumerable.Range(0, words[0].Length).Where(p => words.Any(w => w[p] != words[0][p])).ToList();
        var usable = members.Length > 1 && differing.Count <= MaxParameters
            && !words.Any(w => w.Any(t => t.Contains("${", StringComparison.Ordinal)));
        if (!usable)
        {
            foreach (var same in members.GroupBy(i => messages[i].Text))
                yield return new SinchBatch(messages[same.First()].From, same.Key, [.. same], [.. same.Select(i => messages[i].To)], null);
            yield break;
        }
        var body = words[0].ToArray();
        var parameters = new Dictionary<string, IReadOnlyDictionary<string, string>>();
        for (var k = 0; k < differing.Count; k++)
        {
            var name = $"p{k + 1}";
            body[differing[k]] = "${" + name + "}";
            parameters[name] = members.Select((i, m) => (messages[i].To, Value: words[m][differing[k]])).ToDictionary(x => x.To, x => x.Value);
        }
        yield return new SinchBatch(messages[members[0]].From, string.Join(' ', body), members, [.. members.Select(i => messages[i].To)],
            parameters.Count == 0 ? null : parameters);
    }
}
