using Streams.Core.Campaigns;

namespace Streams.Core.Templates;

public static class SampleMessage
{
    /// <summary>
    /// A campaign's text rendered for a sample user (each variable as [name], smart encoding applied as the send
    /// would) with its encoding and segments; when it cannot render, no text and the variable that is missing.
    /// </summary>
    public static (string? Text, SmsInfo? Info, string? Missing) Of(CampaignSpec spec)
    {
        var template = MessageTemplate.ParseValid(spec.What.Text);
        var rendered = template.Render(template.SampleValues(null, spec.Id, spec.Name));
        if (!rendered.Ok) return (null, null, rendered.Missing);
        var text = spec.What.SmartEncoding == true ? SmsEncoding.SmartEncode(rendered.Text!) : rendered.Text!;
        return (text, SmsEncoding.Analyze(text), null);
    }
}
