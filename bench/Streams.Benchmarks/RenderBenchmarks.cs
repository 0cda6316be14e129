using BenchmarkDotNet.Attributes;
using Streams.Core;
using Streams.Core.Campaigns;
using Streams.Core.Templates;
using Streams.Dispatcher;
using Streams.Tests;

namespace Streams.Benchmarks;

/// <summary>
/// What the dispatcher does for every message: render the campaign text for one user, and the whole
/// send decision around it. The baseline is a plain string.Concat of the same pieces, the floor for
/// any renderer. Run: dotnet run -c Release --project bench/Streams.Benchmarks -- --filter '*Render*'
/// </summary>
[MemoryDiagnoser]
[ShortRunJob]
public class RenderBenchmarks
{
    private const string Text = "Hi {{ profile.first_name | default: 'there' }}, your {{ event.product }} is waiting. " +
                                "Total {{ event.value | format_number: 'N2' }}. Reply STOP to opt out.";

    private readonly MessageTemplate _template = MessageTemplate.ParseValid(Text);
    private readonly TimeZoneInfo _zone = TimeZoneInfo.FindSystemTimeZoneById("Asia/Kolkata");
    private TemplateValues _values = null!;
    private SmsRequest _request = null!;
    private CampaignEntry _campaign = null!;
    private readonly DateTimeOffset _now = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);

    [GlobalSetup]
    public void Setup()
    {
        var profile = new Dictionary<string, object?> { ["first_name"] = "Asha", ["city"] = "Mumbai" };
        var ev = new Dictionary<string, object?> { ["product"] = "Shoes", ["value"] = 1799.5 };
        _values = new TemplateValues(profile, ev, new Dictionary<string, object?> { ["id"] = "cart", ["name"] = "Cart" });
        _request = new SmsRequest("r1", "cart", 1, "u1", _now, new RequestContext("Added To Cart", _now, ev, "+919876543210", "Asia/Kolkata", true, profile));
        _campaign = Build.Entry(System.Text.Json.JsonSerializer.Serialize(new
        {
            id = "cart", name = "Cart", type = "live",
            who = new { trigger = new { @event = "Added To Cart" } },
            what = new { provider = "sandbox", text = Text },
        }), at: _now);
    }

    [Benchmark(Baseline = true)]
    public string Concat_baseline() =>
        string.Concat("Hi ", (string?)_values.Profile["first_name"] ?? "there", ", your ", (string)_values.Event["product"]!,
            " is waiting. Total ", ((double)_values.Event["value"]!).ToString("N2", System.Globalization.CultureInfo.InvariantCulture), ". Reply STOP to opt out.");

    [Benchmark]
    public string? Liquid_render() => _template.Render(_values, _zone, _now).Text;

    [Benchmark]
    public Decision Send_decision() => SendDecision.Decide(_request, _campaign, _now);
}
