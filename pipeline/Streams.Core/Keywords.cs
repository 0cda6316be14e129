namespace Streams.Core;

public enum Keyword { None, Stop, Start, Help }

/// <summary>Compliance keywords: the whole message is one word, any case (providers.md, compliance).</summary>
public static class Keywords
{
    private static readonly string[] Stop = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"];
    private static readonly string[] Start = ["START", "YES", "UNSTOP"];
    private static readonly string[] Help = ["HELP", "INFO"];

    public static Keyword Classify(string? body)
    {
        var word = (body ?? "").Trim().TrimEnd('.', '!').ToUpperInvariant();
        if (Stop.Contains(word)) return Keyword.Stop;
        if (Start.Contains(word)) return Keyword.Start;
        if (Help.Contains(word)) return Keyword.Help;
        return Keyword.None;
    }
}

public sealed record InboundMessage(string Id, string Provider, string From, string? To, string Body, DateTimeOffset ReceivedAt);
