using System.Globalization;

namespace Streams.Dispatcher;

/// <summary>The request behind a provider's message id, kept in the counter store for delivery reports.</summary>
public sealed record MessageNote(string RequestId, string CampaignId, string UserId, string Provider, int Segments, string Encoding)
{
    public static string Key(string kind, string messageId) => $"msg:{kind}:{messageId}";

    public override string ToString() =>
        string.Join('\u001f', RequestId, CampaignId, UserId, Provider, Segments.ToString(CultureInfo.InvariantCulture), Encoding);

    public static MessageNote? Parse(string? text)
    {
        var p = text?.Split('\u001f');
        return p is { Length: 6 } && int.TryParse(p[4], CultureInfo.InvariantCulture, out var segments)
            ? new MessageNote(p[0], p[1], p[2], p[3], segments, p[5])
            : null;
    }
}
