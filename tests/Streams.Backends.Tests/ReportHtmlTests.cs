using System.Diagnostics;
using System.Text.RegularExpressions;
using Streams.Analytics;
using Streams.Analytics.Reports;
using Streams.Core;
using Streams.Tests;

namespace Streams.Backends.Tests;

/// <summary>The HTML report in a real browser (headless Chromium): it renders, its charts carry the report's numbers, the console stays quiet.</summary>
public sealed partial class ReportHtmlTests : IDisposable
{
    private static readonly DateTimeOffset At = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);
    private readonly TempDir _dir = new();

    public ReportHtmlTests() => Directory.CreateDirectory(_dir);

    private static Report Sample()
    {
        var day1 = At.ToUnixTimeSeconds();
        var day2 = At.AddDays(1).ToUnixTimeSeconds();
        var rows = new ReportRows(
            [("cart", 700)],
            [
                new("cart", ResultStatus.Sent, "", 400), new("cart", ResultStatus.Delivered, "", 390), new("cart", ResultStatus.Failed, "twilio 30007", 10),
                new("cart", ResultStatus.Suppressed, Reasons.ControlGroup, 200), new("cart", ResultStatus.Suppressed, Reasons.OptedOut, 100),
            ],
            [new("cart", "GSM-7", 300, 300), new("cart", "UCS-2", 100, 200)],
            [new("cart", ResultStatus.Sent, day1, 250), new("cart", ResultStatus.Delivered, day1, 245), new("cart", ResultStatus.Sent, day2, 150), new("cart", ResultStatus.Delivered, day2, 145)],
            [new("cart", ExposureGroup.Treatment, 400, 400, 0), new("cart", ExposureGroup.Control, 200, 200, 0)],
            [new("cart", ExposureGroup.Treatment, 100, 100, 5000), new("cart", ExposureGroup.Control, 30, 30, 1200)],
            [new("cart", "converted", day1, 60), new("cart", "converted", day2, 40)]);
        return Report.Build(rows, new ReportFilter("cart"), At, _ => Core.Campaigns.CampaignSpecParser.ParseValid("""
            id: cart
            name: Cart
            type: live
            who: {trigger: {event: Added To Cart}}
            what: {provider: sandbox, text: Hi}
            goal: {conversion: {event: Charged, within: 24h, value: value}, control_group: 33}
            """));
    }

    private (string Dom, string Console, int ExitCode) Chromium(string file, params string[] extra)
    {
        var start = new ProcessStartInfo(Services.Chromium) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0", $"--user-data-dir={Path.Combine(_dir, "profile")}" }.Concat(extra))
            start.ArgumentList.Add(a);
        start.ArgumentList.Add("file://" + file);
        using var chromium = Process.Start(start)!;
        var dom = chromium.StandardOutput.ReadToEndAsync();
        var log = chromium.StandardError.ReadToEndAsync();
        if (!chromium.WaitForExit(TimeSpan.FromSeconds(90))) chromium.Kill(entireProcessTree: true);
        chromium.WaitForExit();
        return (dom.Result, string.Join("\n", log.Result.Split('\n').Where(l => l.Contains(":CONSOLE", StringComparison.Ordinal))), chromium.ExitCode);
    }

    [GeneratedRegex("""data-step="(?<step>[a-z]+)" data-value="(?<n>\d+)""")]
    private static partial Regex Step();

    [GeneratedRegex("""data-day="(?<day>[0-9-]+)" data-series="(?<series>[a-z]+)" data-value="(?<n>\d+)""")]
    private static partial Regex Bar();

    [Fact]
    public void The_html_report_renders_in_chromium_with_the_reports_numbers_and_no_console_errors()
    {
        var report = Sample();
        var html = ReportFormats.Html(report);
        // Self-contained: nothing to fetch, no script.
        Assert.DoesNotContain("http://", html);
        Assert.DoesNotContain("https://", html);
        Assert.DoesNotContain("<script", html);
        var file = Path.Combine(_dir, "report.html");
        File.WriteAllText(file, html);

        var (dom, console, exit) = Chromium(file, "--dump-dom");
        Assert.Equal(0, exit);
        Assert.Equal("", console);
        var funnel = Step().Matches(dom).ToDictionary(m => m.Groups["step"].Value, m => long.Parse(m.Groups["n"].Value));
        var cart = report.Campaigns.Single();
        Assert.Equal(new Dictionary<string, long>
        {
            ["qualified"] = 700, ["suppressed"] = 300, ["sent"] = 400, ["delivered"] = 390, ["failed"] = 10, ["converted"] = 100,
        }, funnel);
        var bars = Bar().Matches(dom).Select(m => (m.Groups["day"].Value, m.Groups["series"].Value, long.Parse(m.Groups["n"].Value))).ToList();
        Assert.Equal(cart.Days.SelectMany(d => new[]
        {
            (d.Day.ToString("yyyy-MM-dd"), "sent", d.Sent), (d.Day.ToString("yyyy-MM-dd"), "delivered", d.Delivered), (d.Day.ToString("yyyy-MM-dd"), "converted", d.Converted),
        }), bars);
        Assert.Equal([("2026-12-01", "sent", 250L), ("2026-12-01", "delivered", 245L), ("2026-12-01", "converted", 60L)], bars.Take(3));
        Assert.Contains($"data-low=\"{cart.Lift.Low!.Value:R}\" data-high=\"{cart.Lift.High!.Value:R}\"", dom);
        Assert.Contains("lift +10.0 pts (95% CI +3.5 to +16.5)", dom);

        // At a phone's width the page lays out as it is (a screenshot of that width comes back).
        var png = Path.Combine(_dir, "phone.png");
        Assert.Equal(0, Chromium(file, "--window-size=390,1600", $"--screenshot={png}").ExitCode);
        var header = File.ReadAllBytes(png).AsSpan(16, 4).ToArray();
        Assert.Equal(390, (header[0] << 24) | (header[1] << 16) | (header[2] << 8) | header[3]);
    }

    [Fact]
    public void The_console_check_sees_an_error_when_there_is_one()
    {
        var file = Path.Combine(_dir, "bad.html");
        File.WriteAllText(file, "<html><body><script>console.error('boom')</script></body></html>");
        Assert.Contains("boom", Chromium(file, "--dump-dom").Console);
    }

    public void Dispose() => _dir.Dispose();
}
