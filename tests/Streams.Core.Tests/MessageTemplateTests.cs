using Streams.Core.Templates;

namespace Streams.Core.Tests;

public sealed class MessageTemplateTests
{
    private static readonly TimeZoneInfo Kolkata = TimeZoneInfo.FindSystemTimeZoneById("Asia/Kolkata");

    private static TemplateValues Values(Dictionary<string, object?>? profile = null, Dictionary<string, object?>? ev = null) =>
        new(profile ?? [], ev ?? [], new Dictionary<string, object?> { ["id"] = "cart", ["name"] = "Abandoned cart" });

    private static RenderResult Render(string text, TemplateValues values, TimeZoneInfo? zone = null) =>
        MessageTemplate.ParseValid(text).Render(values, zone);

    [Fact]
    public void Missing_value_without_default_fails_the_render_instead_of_sending_a_gap()
    {
        var r = Render("Hi {{ profile.first_name }},", Values());
        Assert.False(r.Ok);
        Assert.Equal("profile.first_name", r.Missing);
        Assert.False(Render("Hi {{ profile.first_name | upcase }},", Values()).Ok);
        Assert.False(Render("Hi {{ profile.first_name }},", Values(new() { ["first_name"] = "" })).Ok);
    }

    [Fact]
    public void Default_fills_missing_and_empty_values()
    {
        Assert.Equal("Hi there", Render("Hi {{ profile.first_name | default: 'there' }}", Values()).Text);
        Assert.Equal("Hi there", Render("Hi {{ profile.first_name | default: 'there' }}", Values(new() { ["first_name"] = "" })).Text);
        Assert.Equal("Hi Asha", Render("Hi {{ profile.first_name | default: 'there' }}", Values(new() { ["first_name"] = "Asha" })).Text);
        Assert.Equal("Hi THERE", Render("Hi {{ profile.first_name | default: 'there' | upcase }}", Values()).Text);
    }

    [Fact]
    public void A_missing_value_tested_in_a_condition_is_not_a_failure()
    {
        var text = "{% if profile.first_name %}Hi {{ profile.first_name }}{% else %}Hello{% endif %}";
        Assert.Equal("Hello", Render(text, Values()).Text);
        Assert.Equal("Hi Asha", Render(text, Values(new() { ["first_name"] = "Asha" })).Text);
    }

    [Fact]
    public void Case_filters_and_campaign_values()
    {
        var values = Values(new() { ["first_name"] = "asha", ["city"] = "MUMBAI" });
        Assert.Equal("Asha ASHA mumbai cart Abandoned cart",
            Render("{{ profile.first_name | capitalize }} {{ profile.first_name | upcase }} {{ profile.city | downcase }} {{ campaign.id }} {{ campaign.name }}", values).Text);
    }

    [Fact]
    public void Numbers_format_invariantly()
    {
        var values = Values(ev: new() { ["value"] = 1799.5, ["qty"] = 3L });
        Assert.Equal("1,799.50 1800 3 1799.5", Render("{{ event.value | format_number: 'N2' }} {{ event.value | round }} {{ event.qty }} {{ event.value }}", values).Text);
    }

    [Fact]
    public void Dates_render_in_the_users_time_zone()
    {
        var values = Values(ev: new() { ["departure"] = "2026-12-03T04:30:00Z" });
        Assert.Equal("03 Dec 10:00", Render("{{ event.departure | date: '%d %b %H:%M' }}", values, Kolkata).Text);
        Assert.Equal("03 Dec 04:30", Render("{{ event.departure | date: '%d %b %H:%M' }}", values).Text);
        var newYork = TimeZoneInfo.FindSystemTimeZoneById("America/New_York");
        Assert.Equal("02 Dec 23:30", Render("{{ event.departure | date: '%d %b %H:%M' }}", values, newYork).Text);
    }

    [Fact]
    public void Syntax_errors_carry_line_and_column()
    {
        var (template, errors) = MessageTemplate.Parse("Hello\nHi {{ profile.name | upcase }");
        Assert.Null(template);
        var error = Assert.Single(errors);
        Assert.Equal((2, 28), (error.Line, error.Column));
        Assert.Contains("'}}' was expected", error.Message);
        Assert.Equal((1, 21), Assert.Single(MessageTemplate.Parse("Hi {% if x %} no end").Errors) is var e ? (e.Line, e.Column) : default);
    }

    [Fact]
    public void Variables_outside_the_three_scopes_are_errors()
    {
        var errors = MessageTemplate.Parse("Hi {{ user.name }} {{ profile.x }}").Errors;
        Assert.Equal("unknown variable 'user' (use profile.*, event.* or campaign.*)", Assert.Single(errors).Message);
    }

    [Fact]
    public void Variables_report_their_scope_and_whether_they_are_covered_by_a_default()
    {
        var template = MessageTemplate.ParseValid("{{ profile.first_name | default: 'x' }} {{ event.product }} {% if profile.vip %}VIP{% endif %}");
        Assert.Equal(
            [new TemplateVariable("profile", "first_name", true), new TemplateVariable("event", "product", false), new TemplateVariable("profile", "vip", true)],
            template.Variables);
    }
}

public sealed class TemplateCatalogTests
{
    private static readonly (string, string, string)[] Known =
    [
        ("profile", "", "first_name"), ("profile", "", "city"), ("event", "Added To Cart", "product"), ("event", "Added To Cart", "value"),
    ];

    [Fact]
    public void Variables_that_match_no_known_property_are_warnings()
    {
        var template = MessageTemplate.ParseValid("Hi {{ profile.first_nme | default: 'x' }}, {{ event.product }} {{ event.colour }} {{ campaign.name }}");
        Assert.Equal(
        [
            "profile.first_nme matches no profile property seen so far (city, first_name)",
            "event.colour matches no property seen on 'Added To Cart' events (product, value)",
        ], template.UnknownVariables("Added To Cart", Known));
    }

    [Fact]
    public void Nothing_is_flagged_before_anything_of_that_kind_was_seen() =>
        Assert.Empty(MessageTemplate.ParseValid("{{ event.anything }}").UnknownVariables("Signed Up", Known));

    [Fact]
    public void Campaign_has_only_id_and_name() =>
        Assert.Equal("unknown variable 'campaign.owner' (campaign has id and name)", Assert.Single(MessageTemplate.Parse("{{ campaign.owner }}").Errors).Message);

    [Fact]
    public void An_unknown_filter_is_an_error_not_a_silent_pass_through()
    {
        Assert.Equal("unknown filter 'nosuchfilter'", Assert.Single(MessageTemplate.Parse("Hi {{ event.product | nosuchfilter }}").Errors).Message);
        Assert.Empty(MessageTemplate.Parse("Hi {{ event.product | upcase | default: 'x' | date: '%d' | format_number: 'N2' }}").Errors);
    }

    [Fact]
    public void Sample_values_stand_for_each_variable_and_a_given_profile_wins()
    {
        var template = MessageTemplate.ParseValid("Hi {{ profile.first_name }}, your {{ event.product }} ({{ campaign.id }})");
        Assert.Equal("Hi [first_name], your [product] ([id])", template.Render(template.SampleValues()).Text);
        Assert.Equal("Hi Asha, your [product] (cart)",
            template.Render(template.SampleValues(new Dictionary<string, object?> { ["first_name"] = "Asha" }, "cart")).Text);
    }
}
