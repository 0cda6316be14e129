using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace Streams.Analytics.Reports;

/// <summary>A report as `streams report` prints it and GET /report serves it: table, json, csv or one self-contained HTML page.</summary>
public static class ReportFormats
{
    public static readonly IReadOnlyList<string> Names = ["table", "json", "csv", "html"];

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static string Render(Report report, string format) => format switch
    {
        "json" => Json(report) + "\n",
        "csv" => Csv(report),
        "html" => Html(report),
        _ => Table(report),
    };

    public static string Json(Report report) => JsonSerializer.Serialize(new
    {
        filter = new { campaign_id = report.Filter.CampaignId, run_key = report.Filter.RunKey, from = report.Filter.From, to = report.Filter.To },
        at = report.At,
        campaigns = report.Campaigns.Select(c => new
        {
            campaign_id = c.CampaignId,
            zone = c.Zone,
            goal = c.Goal,
            funnel = new
            {
                qualified = c.Funnel.Qualified,
                suppressed = c.Funnel.Suppressed.OrderBy(k => k.Key, StringComparer.Ordinal).ToDictionary(),
                sent = c.Funnel.Sent,
                delivered = c.Funnel.Delivered,
                failed = c.Funnel.Failed,
                failed_by_reason = c.Funnel.FailedByReason.OrderBy(k => k.Key, StringComparer.Ordinal).ToDictionary(),
                expired = c.Funnel.Expired,
                ambiguous = c.Funnel.Ambiguous,
                pending = c.Funnel.Pending,
                converted = c.Converted,
            },
            delivery_rate = c.DeliveryRate,
            conversion_rate = c.ConversionRate,
            revenue = c.Revenue,
            segments = c.Segments,
            costs = c.Costs.Select(k => new { encoding = k.Encoding, messages = k.Messages, segments = k.Segments }),
            days = c.Days.Select(d => new { day = d.Day.ToString("yyyy-MM-dd", Inv), sent = d.Sent, delivered = d.Delivered, converted = d.Converted }),
            lift = LiftJson(c.Lift),
            global_control = new { exposed = c.GlobalControl.Exposed, converted = c.GlobalControl.Converted, rate = c.GlobalControl.Rate },
        }),
    }, AnalyticsJson.Options);

    private static object LiftJson(Lift l) => new
    {
        treatment = new { exposed = l.Treatment.Exposed, converted = l.Treatment.Converted, rate = l.Treatment.Rate, revenue = l.Treatment.Revenue },
        control = new { exposed = l.Control.Exposed, converted = l.Control.Converted, rate = l.Control.Rate, revenue = l.Control.Revenue },
        enough_data = l.Enough,
        absolute = l.Absolute,
        ci95_low = l.Low,
        ci95_high = l.High,
        relative = l.Relative,
        p_value = l.PValue,
        incremental_conversions = l.IncrementalConversions,
        incremental_revenue = l.IncrementalRevenue,
    };

    /// <summary>The lift in one line: "lift +12.3 pts (95% CI +4.1 to +20.5), relative +61%, p=0.003, +41 conversions" or why there is none.</summary>
    public static string LiftLine(Lift l)
    {
        if (l.Treatment.Exposed == 0 && l.Control.Exposed == 0) return "lift: no exposures";
        var rates = $"treatment {Pct(l.Treatment.Rate)} of {l.Treatment.Exposed}, control {Pct(l.Control.Rate)} of {l.Control.Exposed}";
        if (!l.Enough) return $"lift: not enough data ({rates}; needs {Lift.MinimumExposed}+ exposures per group and {Lift.MinimumExpected}+ expected conversions)";
        var relative = l.Relative is { } r ? $", relative {Signed(r * 100, "0")}%" : "";
        return $"lift {Signed(l.Absolute!.Value * 100, "0.0")} pts (95% CI {Signed(l.Low!.Value * 100, "0.0")} to {Signed(l.High!.Value * 100, "0.0")}){relative}, "
            + $"p={l.PValue!.Value.ToString("0.0000", Inv)}, {Signed(l.IncrementalConversions!.Value, "0")} conversions, {Signed(l.IncrementalRevenue!.Value, "0.00")} revenue ({rates})";
    }

    /// <summary>The goal and its lift; a campaign whose spec is not at hand but has conversions or a control group still gets its lift.</summary>
    public static string GoalLine(CampaignReport c) =>
        c.Goal is { } goal ? $"goal {goal}: {LiftLine(c.Lift)}" : c.Converted > 0 || c.Lift.Control.Exposed > 0 ? LiftLine(c.Lift) : "no conversion goal";

    public static string Table(Report report)
    {
        var sb = new StringBuilder();
        if (report.Campaigns.Count == 0) return "(no results yet)\n";
        foreach (var c in report.Campaigns)
        {
            var f = c.Funnel;
            sb.AppendLine($"{c.CampaignId} (days in {c.Zone})");
            sb.AppendLine($"  qualified {f.Qualified}, suppressed {f.SuppressedTotal}, sent {f.Sent}, delivered {f.Delivered}, failed {f.Failed}, expired {f.Expired}, ambiguous {f.Ambiguous}, pending {f.Pending}, converted {c.Converted}");
            if (f.Suppressed.Count > 0)
                sb.AppendLine("  suppressed: " + string.Join(", ", f.Suppressed.OrderBy(k => k.Key, StringComparer.Ordinal).Select(k => $"{k.Key}={k.Value}")));
            if (f.FailedByReason.Count > 0)
                sb.AppendLine("  failed: " + string.Join(", ", f.FailedByReason.OrderByDescending(k => k.Value).ThenBy(k => k.Key, StringComparer.Ordinal).Select(k => $"{k.Key}={k.Value}")));
            sb.AppendLine($"  delivery rate {Pct(c.DeliveryRate)}, conversion rate {Pct(c.ConversionRate)}, revenue {c.Revenue.ToString("0.00", Inv)}, segments {c.Segments}"
                + (c.Costs.Count > 0 ? " (" + string.Join(", ", c.Costs.Select(k => $"{k.Encoding}: {k.Messages} messages, {k.Segments} segments")) + ")" : ""));
            sb.AppendLine("  " + GoalLine(c));
            if (c.GlobalControl.Exposed > 0) sb.AppendLine($"  global control: {Pct(c.GlobalControl.Rate)} of {c.GlobalControl.Exposed}");
            if (c.Days.Count > 0)
            {
                sb.AppendLine($"  {"DAY",-10} {"SENT",8} {"DELIVERED",9} {"CONVERTED",9}");
                foreach (var d in c.Days) sb.AppendLine($"  {d.Day.ToString("yyyy-MM-dd", Inv),-10} {d.Sent,8} {d.Delivered,9} {d.Converted,9}");
            }
        }
        return sb.ToString();
    }

    /// <summary>One row per campaign and day (day empty: the campaign's totals), one header line.</summary>
    public static string Csv(Report report)
    {
        var sb = new StringBuilder("campaign_id,day,qualified,suppressed,sent,delivered,failed,converted,conversion_rate,control_rate,lift,ci95_low,ci95_high,p_value,segments\n");
        foreach (var c in report.Campaigns)
        {
            var l = c.Lift;
            sb.AppendLine(string.Join(",", Quote(c.CampaignId), "", c.Funnel.Qualified, c.Funnel.SuppressedTotal, c.Funnel.Sent, c.Funnel.Delivered, c.Funnel.Failed,
                c.Converted, Num(c.ConversionRate), Num(l.Control.Rate), Num(l.Absolute), Num(l.Low), Num(l.High), Num(l.PValue), c.Segments));
            foreach (var d in c.Days)
                sb.AppendLine(string.Join(",", Quote(c.CampaignId), d.Day.ToString("yyyy-MM-dd", Inv), "", "", d.Sent, d.Delivered, "", d.Converted, "", "", "", "", "", "", ""));
        }
        return sb.ToString();
    }

    private static string Quote(string s) => s.Contains(',') || s.Contains('"') ? "\"" + s.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : s;

    private static string Num(double? v) => v?.ToString("0.######", Inv) ?? "";

    private static string Pct(double? v) => v is { } x ? (x * 100).ToString("0.0", Inv) + "%" : "n/a";

    private static string Signed(double v, string format) => (v >= 0 ? "+" : "") + v.ToString(format, Inv);

    private static string H(string s) => WebUtility.HtmlEncode(s);

    /// <summary>
    /// One page, no script and nothing fetched: inline CSS and SVG. Each chart's marks carry their numbers in data-*
    /// attributes (the browser test reads them back) and a title a person sees on hover.
    /// </summary>
    public static string Html(Report report)
    {
        var sb = new StringBuilder();
        sb.Append("""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Streams campaign report</title>
            <style>
            body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;max-width:960px;padding:12px;color:#1b1f24;background:#fff}
            h1{font-size:1.4rem} h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ddd;padding-bottom:4px}
            table{border-collapse:collapse;width:100%;font-size:.9rem;margin:.5rem 0} td,th{padding:4px 6px;border-bottom:1px solid #eee;text-align:right} td:first-child,th:first-child{text-align:left}
            svg{width:100%;height:auto;max-width:560px;display:block} .lift{font-weight:600;font-size:.95rem} .muted{color:#666;font-size:.85rem}
            .sent{fill:#4c78a8} .delivered{fill:#72b7b2} .converted{fill:#f58518}
            </style></head><body>
            """);
        sb.Append($"<h1>Campaign report</h1><p class=\"muted\">Generated {H(report.At.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", Inv))}");
        if (report.Filter.CampaignId is { } id) sb.Append($" · campaign {H(id)}");
        if (report.Filter.RunKey is { } run) sb.Append($" · run key {H(run)}");
        sb.Append("</p>");
        if (report.Campaigns.Count == 0) sb.Append("<p>No results yet.</p>");
        foreach (var c in report.Campaigns)
        {
            var f = c.Funnel;
            sb.Append($"<section class=\"campaign\" data-campaign=\"{H(c.CampaignId)}\"><h2>{H(c.CampaignId)}</h2>");
            sb.Append($"<p class=\"muted\">Days in {H(c.Zone)} · delivery rate {Pct(c.DeliveryRate)} · conversion rate {Pct(c.ConversionRate)} · revenue {c.Revenue.ToString("0.00", Inv)} · {c.Segments} segments");
            if (c.Costs.Count > 0) sb.Append(" (" + H(string.Join(", ", c.Costs.Select(k => $"{k.Encoding} {k.Messages} messages / {k.Segments} segments"))) + ")");
            sb.Append("</p>");
            sb.Append(FunnelChart(c));
            sb.Append(LiftChart(c.Lift));
            sb.Append($"<p class=\"lift\">{H(GoalLine(c))}</p>");
            if (c.GlobalControl.Exposed > 0) sb.Append($"<p class=\"muted\">Global control group: {Pct(c.GlobalControl.Rate)} converted of {c.GlobalControl.Exposed}.</p>");
            sb.Append("<p class=\"muted\"><span style=\"color:#4c78a8\">■</span> sent <span style=\"color:#72b7b2\">■</span> delivered <span style=\"color:#f58518\">■</span> converted, by day</p>");
            sb.Append(DailyChart(c));
            sb.Append("<table><tr><th>Day</th><th>Sent</th><th>Delivered</th><th>Converted</th></tr>");
            foreach (var d in c.Days) sb.Append($"<tr><td>{d.Day.ToString("yyyy-MM-dd", Inv)}</td><td>{d.Sent}</td><td>{d.Delivered}</td><td>{d.Converted}</td></tr>");
            sb.Append("</table>");
            if (f.Suppressed.Count > 0)
            {
                sb.Append("<table><tr><th>Not sent because</th><th>Requests</th></tr>");
                foreach (var (reason, n) in f.Suppressed.OrderByDescending(k => k.Value).ThenBy(k => k.Key, StringComparer.Ordinal)) sb.Append($"<tr><td>{H(reason)}</td><td>{n}</td></tr>");
                sb.Append("</table>");
            }
            sb.Append("</section>");
        }
        sb.Append("</body></html>\n");
        return sb.ToString();
    }

    private static string FunnelChart(CampaignReport c)
    {
        var f = c.Funnel;
        (string Label, string Key, long N)[] steps =
            [("Qualified", "qualified", f.Qualified), ("Suppressed", "suppressed", f.SuppressedTotal), ("Sent", "sent", f.Sent), ("Delivered", "delivered", f.Delivered),
             ("Failed / undelivered", "failed", f.Failed), ("Converted", "converted", c.Converted)];
        var max = Math.Max(1, steps.Max(s => s.N));
        // Narrow on purpose: at a phone's width the labels stay readable.
        var sb = new StringBuilder("<svg class=\"funnel\" viewBox=\"0 0 400 190\" role=\"img\" aria-label=\"Funnel\">");
        for (var i = 0; i < steps.Length; i++)
        {
            var (label, key, n) = steps[i];
            var w = 210.0 * n / max;
            var y = i * 30 + 5;
            sb.Append(Inv, $"<text x=\"0\" y=\"{y + 16}\" font-size=\"13\">{H(label)}</text>");
            sb.Append(Inv, $"<rect class=\"bar {key}\" data-step=\"{key}\" data-value=\"{n}\" x=\"135\" y=\"{y}\" width=\"{w:0.##}\" height=\"22\" fill=\"#4c78a8\"><title>{H(label)}: {n}</title></rect>");
            sb.Append(Inv, $"<text x=\"{135 + w + 5:0.##}\" y=\"{y + 16}\" font-size=\"13\">{n}</text>");
        }
        return sb.Append("</svg>").ToString();
    }

    private static string LiftChart(Lift l)
    {
        if (!l.Enough) return "";
        // The interval on a scale from min(low, 0) to max(high, 0), with zero marked: an interval clear of zero is a lift.
        var lo = Math.Min(l.Low!.Value, 0);
        var hi = Math.Max(l.High!.Value, 0);
        var span = Math.Max(hi - lo, 1e-9);
        double X(double v) => 30 + 340 * (v - lo) / span;
        var sb = new StringBuilder("<svg class=\"lift-chart\" viewBox=\"0 0 400 70\" role=\"img\" aria-label=\"Lift with its 95% interval\">");
        sb.Append(Inv, $"<line x1=\"{X(0):0.##}\" y1=\"5\" x2=\"{X(0):0.##}\" y2=\"45\" stroke=\"#999\" stroke-dasharray=\"3\"/>");
        sb.Append(Inv, $"<text x=\"{X(0):0.##}\" y=\"60\" font-size=\"12\" text-anchor=\"middle\">0</text>");
        sb.Append(Inv, $"<text x=\"{X(l.Low.Value):0.##}\" y=\"20\" font-size=\"12\" text-anchor=\"middle\">{Signed(l.Low.Value * 100, "0.0")}</text>");
        sb.Append(Inv, $"<text x=\"{X(l.High.Value):0.##}\" y=\"20\" font-size=\"12\" text-anchor=\"middle\">{Signed(l.High.Value * 100, "0.0")} pts</text>");
        sb.Append(Inv, $"<line class=\"interval\" data-low=\"{l.Low.Value.ToString("R", Inv)}\" data-high=\"{l.High.Value.ToString("R", Inv)}\" x1=\"{X(l.Low.Value):0.##}\" y1=\"30\" x2=\"{X(l.High.Value):0.##}\" y2=\"30\" stroke=\"#1b1f24\" stroke-width=\"3\"/>");
        sb.Append(Inv, $"<circle class=\"estimate\" data-value=\"{l.Absolute!.Value.ToString("R", Inv)}\" cx=\"{X(l.Absolute.Value):0.##}\" cy=\"30\" r=\"6\" fill=\"#f58518\"><title>lift {Signed(l.Absolute.Value * 100, "0.0")} pts</title></circle>");
        return sb.Append("</svg>").ToString();
    }

    private static string DailyChart(CampaignReport c)
    {
        if (c.Days.Count == 0) return "";
        var max = Math.Max(1, c.Days.Max(d => Math.Max(d.Sent, Math.Max(d.Delivered, d.Converted))));
        var group = 370.0 / c.Days.Count;
        var bar = Math.Min(24, group / 4);
        var sb = new StringBuilder("<svg class=\"daily\" viewBox=\"0 0 400 220\" role=\"img\" aria-label=\"Sent, delivered and converted by day\">");
        for (var i = 0; i < c.Days.Count; i++)
        {
            var d = c.Days[i];
            var x0 = 20 + i * group;
            var day = d.Day.ToString("yyyy-MM-dd", Inv);
            foreach (var (key, n, k) in new[] { ("sent", d.Sent, 0), ("delivered", d.Delivered, 1), ("converted", d.Converted, 2) })
            {
                var h = 180.0 * n / max;
                sb.Append(Inv, $"<rect class=\"{key}\" data-day=\"{day}\" data-series=\"{key}\" data-value=\"{n}\" x=\"{x0 + k * bar:0.##}\" y=\"{190 - h:0.##}\" width=\"{bar:0.##}\" height=\"{h:0.##}\"><title>{day} {key}: {n}</title></rect>");
            }
            sb.Append(Inv, $"<text x=\"{x0:0.##}\" y=\"210\" font-size=\"12\">{day[5..]}</text>");
        }
        return sb.Append("</svg>").ToString();
    }
}
