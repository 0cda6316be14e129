using System.Globalization;
using System.Text.RegularExpressions;
using Fluid;
using Fluid.Ast;
using Fluid.Values;

namespace Streams.Core.Templates;

public sealed record TemplateValues(
    IReadOnlyDictionary<string, object?> Profile,
    IReadOnlyDictionary<string, object?> Event,
    IReadOnlyDictionary<string, object?> Campaign);

public sealed record RenderResult(string? Text, string? Missing)
{
    public bool Ok => Text is not null;
}

public sealed record TemplateError(string Message, int? Line, int? Column)
{
    public override string ToString() => Line is null ? Message : $"{Message} (line {Line}, column {Column})";
}

/// <summary>A variable the template reads: scope (profile, event, campaign), property, and whether every use has a default.</summary>
public sealed record TemplateVariable(string Scope, string Name, bool HasDefault);

/// <summary>
/// A campaign's text as a Liquid template (Fluid), parsed once per campaign version. Variables are
/// <c>profile.*</c>, <c>event.*</c> and <c>campaign.*</c>. A value that is missing and not covered by
/// <c>default</c> fails the render (reason render_failed): nobody receives "Hi ,". <c>date</c> renders
/// in the user's time zone.
/// </summary>
public sealed partial class MessageTemplate
{
    public static readonly string[] Scopes = ["profile", "event", "campaign"];

    private static readonly FluidParser Parser = new();
    private static readonly TemplateOptions Options = CreateOptions();

    // A missing value renders as this marker carrying its name; finding it in the output fails the render.
    private const char MissingStart = '\uFFFF';
    private const char MissingEnd = '\uFFFE';

    private readonly IFluidTemplate _template;

    private MessageTemplate(string source, IFluidTemplate template, IReadOnlyList<TemplateVariable> variables)
    {
        Source = source;
        _template = template;
        Variables = variables;
    }

    public string Source { get; }
    public IReadOnlyList<TemplateVariable> Variables { get; }

    [GeneratedRegex(@"^(?<msg>.*?)\s*at \((?<line>\d+):(?<col>\d+)\)", RegexOptions.Singleline)]
    private static partial Regex ErrorPosition();

    public static (MessageTemplate? Template, IReadOnlyList<TemplateError> Errors) Parse(string text)
    {
        if (!Parser.TryParse(text, out var template, out var error))
        {
            var first = error.Split('\n')[0].Trim();
            var m = ErrorPosition().Match(first);
            return m.Success
                ? (null, [new TemplateError(m.Groups["msg"].Value, int.Parse(m.Groups["line"].Value, CultureInfo.InvariantCulture), int.Parse(m.Groups["col"].Value, CultureInfo.InvariantCulture))])
                : (null, [new TemplateError(first, null, null)]);
        }
        var collector = new VariableCollector();
        collector.VisitTemplate(template);
        var errors = collector.Unknown.Distinct()
            .Select(u => new TemplateError($"unknown variable '{u}' (use profile.*, event.* or campaign.*)", null, null))
            .Concat(collector.Found.Where(v => v.Scope == "campaign" && v.Name is not ("id" or "name")).Select(v => v.Name).Distinct()
                .Select(n => new TemplateError($"unknown variable 'campaign.{n}' (campaign has id and name)", null, null)))
            // Liquid passes a value through an unknown filter unchanged: "Hi {{ x | nosuchfilter }}" would go out as if it were not there.
            .Concat(collector.Filters.Distinct().Where(f => !Options.Filters.TryGetValue(f, out _))
                .Select(f => new TemplateError($"unknown filter '{f}'", null, null)))
            .ToList();
        var variables = collector.Found
            .GroupBy(v => (v.Scope, v.Name))
            .Select(g => new TemplateVariable(g.Key.Scope, g.Key.Name, g.All(v => v.HasDefault)))
            .ToList();
        return errors.Count > 0 ? (null, errors) : (new MessageTemplate(text, template, variables), []);
    }

    public static MessageTemplate ParseValid(string text)
    {
        var (template, errors) = Parse(text);
        return template ?? throw new ArgumentException("invalid template: " + string.Join("; ", errors));
    }

    /// <summary>
    /// Warnings for variables that match no property seen so far in profiles, or in events of the
    /// trigger's name. Empty when nothing has been seen of that kind (a new deployment has no catalog).
    /// </summary>
    public IEnumerable<string> UnknownVariables(string? triggerEvent, IReadOnlyCollection<(string Kind, string Event, string Name)> known)
    {
        foreach (var v in Variables)
        {
            var (kind, ev) = v.Scope == "profile" ? ("profile", "") : v.Scope == "event" ? ("event", triggerEvent ?? "") : (null, "");
            if (kind is null) continue;
            var ofKind = known.Where(k => k.Kind == kind && k.Event == ev).ToList();
            if (ofKind.Count > 0 && !ofKind.Any(k => k.Name == v.Name))
                yield return kind == "profile"
                    ? $"profile.{v.Name} matches no profile property seen so far ({string.Join(", ", ofKind.Select(k => k.Name).Order(StringComparer.Ordinal))})"
                    : $"event.{v.Name} matches no property seen on '{ev}' events ({string.Join(", ", ofKind.Select(k => k.Name).Order(StringComparer.Ordinal))})";
        }
    }

    /// <summary>Sample values for a preview: each variable stands for itself, as [name].</summary>
    public TemplateValues SampleValues(IReadOnlyDictionary<string, object?>? profile = null, string? campaignId = null, string? campaignName = null)
    {
        Dictionary<string, object?> Bag(string scope) => Variables.Where(v => v.Scope == scope).ToDictionary(v => v.Name, v => (object?)$"[{v.Name}]");
        var p = Bag("profile");
        foreach (var (k, v) in profile ?? Core.Props.Empty) p[k] = v;
        return new TemplateValues(p, Bag("event"), new Dictionary<string, object?> { ["id"] = campaignId ?? "[id]", ["name"] = campaignName ?? "[name]" });
    }

    public RenderResult Render(TemplateValues values, TimeZoneInfo? timeZone = null, DateTimeOffset? now = null)
    {
        var context = new TemplateContext(Options) { CultureInfo = CultureInfo.InvariantCulture, TimeZone = timeZone ?? TimeZoneInfo.Utc };
        if (now is { } n) context.Now = () => n;
        context.SetValue("profile", new PropsValue("profile", values.Profile));
        context.SetValue("event", new PropsValue("event", values.Event));
        context.SetValue("campaign", new PropsValue("campaign", values.Campaign));
        var text = _template.Render(context);
        var start = text.IndexOf(MissingStart, StringComparison.Ordinal);
        if (start < 0) return new RenderResult(text, null);
        var end = text.IndexOf(MissingEnd, start);
        return new RenderResult(null, end > start ? text[(start + 1)..end] : "a value");
    }

    private static TemplateOptions CreateOptions()
    {
        var options = new TemplateOptions { CultureInfo = CultureInfo.InvariantCulture };
        // Liquid's date keeps a value's own offset; a message shows times in the user's zone.
        if (options.Filters.TryGetValue("date", out var date))
        {
            options.Filters.AddFilter("date", (input, arguments, context) =>
            {
                DateTimeOffset? instant = input switch
                {
                    DateTimeValue d when d.ToObjectValue() is DateTimeOffset o => o,
                    DateTimeValue d when d.ToObjectValue() is DateTime dt => new DateTimeOffset(DateTime.SpecifyKind(dt, DateTimeKind.Utc)),
                    StringValue s when Timestamps.TryParseInstant(s.ToStringValue(), out var parsed) => parsed,
                    _ => null,
                };
                return instant is { } i
                    ? date(new DateTimeValue(TimeZoneInfo.ConvertTime(i, context.TimeZone)), arguments, context)
                    : date(input, arguments, context);
            });
        }
        return options;
    }

    /// <summary>A property bag as Liquid sees it: known values convert, unknown or empty names are <see cref="MissingValue"/>.</summary>
    private sealed class PropsValue(string scope, IReadOnlyDictionary<string, object?> props) : FluidValue
    {
        public override FluidValues Type => FluidValues.Dictionary;
        public override bool Equals(FluidValue other) => ReferenceEquals(this, other);
        public override bool ToBooleanValue() => true;
        public override decimal ToNumberValue() => 0;
        public override string ToStringValue() => scope;
        public override object ToObjectValue() => props;

        [Obsolete("Fluid writes values through WriteToAsync")]
        public override void WriteTo(TextWriter writer, System.Text.Encodings.Web.TextEncoder encoder, CultureInfo cultureInfo) =>
            writer.Write(scope);

        public override ValueTask WriteToAsync(TextWriter writer, System.Text.Encodings.Web.TextEncoder encoder, CultureInfo cultureInfo) =>
            new(writer.WriteAsync(scope));

        public override ValueTask<FluidValue> GetValueAsync(string name, TemplateContext context) =>
            new(props.TryGetValue(name, out var v) && v is not null and not "" ? Convert(v) : new MissingValue($"{scope}.{name}"));

        private static FluidValue Convert(object v) => v switch
        {
            string s => new StringValue(s),
            long l => NumberValue.Create(l),
            double d => NumberValue.Create((decimal)d),
            bool b => BooleanValue.Create(b),
            _ => new StringValue(System.Convert.ToString(v, CultureInfo.InvariantCulture) ?? ""),
        };
    }

    /// <summary>Nil for Liquid (so <c>default</c> replaces it), a named marker when written.</summary>
    private sealed class MissingValue(string name) : FluidValue
    {
        public override FluidValues Type => FluidValues.Nil;
        public override bool IsNil() => true;
        public override bool Equals(FluidValue other) => other.IsNil();
        public override bool ToBooleanValue() => false;
        public override decimal ToNumberValue() => 0;
        public override string ToStringValue() => $"{MissingStart}{name}{MissingEnd}";
        public override object ToObjectValue() => null!;

        [Obsolete("Fluid writes values through WriteToAsync")]
        public override void WriteTo(TextWriter writer, System.Text.Encodings.Web.TextEncoder encoder, CultureInfo cultureInfo) =>
            writer.Write(ToStringValue());

        public override ValueTask WriteToAsync(TextWriter writer, System.Text.Encodings.Web.TextEncoder encoder, CultureInfo cultureInfo) =>
            new(writer.WriteAsync(ToStringValue()));
    }

    private sealed class VariableCollector : AstVisitor
    {
        private bool _inOutput;
        private bool _outputHasDefault;
        public List<TemplateVariable> Found { get; } = [];
        public List<string> Unknown { get; } = [];
        public List<string> Filters { get; } = [];

        protected override Expression VisitFilterExpression(FilterExpression filterExpression)
        {
            Filters.Add(filterExpression.Name);
            return base.VisitFilterExpression(filterExpression);
        }

        protected override Statement VisitOutputStatement(OutputStatement outputStatement)
        {
            _inOutput = true;
            _outputHasDefault = HasDefault(outputStatement.Expression) || outputStatement.Filters?.Any(f => f.Name == "default") == true;
            var result = base.VisitOutputStatement(outputStatement);
            _inOutput = false;
            return result;
        }

        private static bool HasDefault(Expression e) => e is FilterExpression f && (f.Name == "default" || HasDefault(f.Input));

        protected override Expression VisitMemberExpression(MemberExpression memberExpression)
        {
            if (memberExpression.Segments is [IdentifierSegment root, ..])
            {
                if (!Scopes.Contains(root.Identifier))
                {
                    if (_inOutput) Unknown.Add(root.Identifier);
                }
                else if (memberExpression.Segments is [_, IdentifierSegment prop, ..])
                {
                    // Outside an output (e.g. in an if condition) a missing value is a legitimate test.
                    Found.Add(new TemplateVariable(root.Identifier, prop.Identifier, !_inOutput || _outputHasDefault));
                }
            }
            return base.VisitMemberExpression(memberExpression);
        }
    }
}
