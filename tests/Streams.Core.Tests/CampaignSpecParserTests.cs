using Streams.Core.Campaigns;

namespace Streams.Core.Tests;

public sealed class CampaignSpecParserTests
{
    // The full example of PRODUCT.md, with the alternatives it shows in comments filled in elsewhere.
    public const string Full = """
        id: abandoned-cart              # [a-z0-9-]+
        name: Abandoned cart nudge
        type: live
        who:
          trigger:
            event: Added To Cart
            where: [{prop: value, op: gte, value: 500}]
            inaction: {event: Charged, within: 5m}
          segment:
            all:
              - profile: {prop: city, op: eq, value: Mumbai}
              - did: {event: App Launched, count: {gte: 2}, within: 30d}
              - not: {did: {event: Charged, within: 7d}}
          reach:
            percent: 50
            limit: 1000
            daily_limit: 200
            run_limit: 5000
            safety_limit: 10000
        when:
          timezone: Asia/Kolkata
          deliver_in: user_timezone
          best_time: {from: "09:00", to: "21:00"}
          start: "2026-12-01T00:00Z"
          end: "2026-12-31T23:59Z"
          dnd: {from: "22:00", to: "09:00", action: delay}
          global_limits: apply
        what:
          provider: sinch
          from: "+14155550100"
          text: "Hi {{ profile.first_name | default: 'there' }}, your {{ event.product }} is waiting 🛒"
          max_segments: 3
        goal:
          conversion: {event: Charged, within: 24h, where: [{prop: amount, op: gt, value: 0}], value: amount}
          control_group: 10
          transactional: false
        """;

    [Fact]
    public void Full_product_example_parses_into_the_typed_model()
    {
        var result = CampaignSpecParser.Parse(Full);
        Assert.True(result.IsValid, string.Join("\n", result.Problems));
        var s = result.Spec!;
        Assert.Equal(("abandoned-cart", "Abandoned cart nudge", CampaignType.Live), (s.Id, s.Name, s.Type));
        Assert.Equal("Added To Cart", s.Who.Trigger!.Event);
        Assert.Equal(new Condition("value", ConditionOp.Gte, 500L), s.Who.Trigger.Where.Single());
        Assert.Equal(new Inaction("Charged", TimeSpan.FromMinutes(5), []), s.Who.Trigger.Inaction! with { Where = [] });
        var all = Assert.IsType<AllOf>(s.Who.Segment);
        Assert.Equal(3, all.Items.Count);
        Assert.Equal(new ProfileCondition(new Condition("city", ConditionOp.Eq, "Mumbai")), all.Items[0]);
        var did = Assert.IsType<DidCondition>(all.Items[1]);
        Assert.Equal(("App Launched", 2L, TimeSpan.FromDays(30)), (did.Event, did.Count!.Gte, did.Within));
        Assert.IsType<NotOf>(all.Items[2]);
        Assert.Equal((50.0, 1000L, 200L, 5000L, 10000L), (s.Who.Reach!.Percent, s.Who.Reach.Limit, s.Who.Reach.DailyLimit, s.Who.Reach.RunLimit, s.Who.Reach.SafetyLimit));
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero), s.When!.Start);
        Assert.Equal(new Dnd(new TimeOnly(22, 0), new TimeOnly(9, 0), DndAction.Delay), s.When.Dnd);
        Assert.Equal((DeliverIn.UserTimezone, GlobalLimits.Apply), (s.When.DeliverIn, s.When.GlobalLimits));
        Assert.Equal(("sinch", "+14155550100", 3), (s.What.Provider, s.What.From, s.What.MaxSegments));
        var goal = s.Goal!.Conversion!;
        Assert.Equal(("Charged", TimeSpan.FromHours(24), "amount", 10.0, false), (goal.Event, goal.Within, goal.Value, s.Goal.ControlGroup, s.Goal.Transactional));
        Assert.Equal(new Condition("amount", ConditionOp.Gt, 0L), goal.Conditions.Single());
    }

    [Fact]
    public void Scheduled_campaign_with_times_and_recurrence_parses()
    {
        var result = CampaignSpecParser.Parse("""
            id: weekly
            name: Weekly digest
            type: scheduled
            who: {segment: {ref: engaged-users}}
            when:
              at: ["2026-12-01T10:00", "2026-12-08T10:00"]
              every: {cron: "0 10 * * MON", until: "2027-03-01"}
              timezone: Asia/Kolkata
            what: {provider: sandbox, messaging_service: MG0123456789abcdef0123456789abcdef, text: "Your week"}
            """);
        Assert.True(result.IsValid, string.Join("\n", result.Problems));
        Assert.Equal([new DateTime(2026, 12, 1, 10, 0, 0), new DateTime(2026, 12, 8, 10, 0, 0)], result.Spec!.When!.At);
        Assert.Equal(new Recurrence("0 10 * * MON", new DateOnly(2027, 3, 1)), result.Spec.When.Every);
        Assert.Equal(new SegmentRef("engaged-users"), result.Spec.Who.Segment);
    }

    [Fact]
    public void Json_and_yaml_specs_give_the_same_model()
    {
        var yaml = CampaignSpecParser.Parse(Full);
        var json = CampaignSpecParser.Parse(yaml.ToJson());
        Assert.True(json.IsValid, string.Join("\n", json.Problems));
        Assert.Equal(yaml.ToJson(), json.ToJson());
        Assert.Equal(yaml.Spec!.What, json.Spec!.What);
        Assert.Equal(yaml.Spec.When!.Dnd, json.Spec.When!.Dnd);
    }

    [Fact]
    public void Validate_lists_every_problem_with_its_path()
    {
        var result = CampaignSpecParser.Parse("""
            id: Bad_Id
            type: live
            colour: blue
            who:
              trigger:
                where: [{prop: value, op: greater, value: 5}, {prop: x, op: in, value: []}]
                inaction: {event: Charged, within: 5 minutes}
              reach: {percent: 150, limit: -1}
            when:
              timezone: Mars/Olympus
              dnd: {from: "25:00", to: "09:00", action: snooze}
              start: "2026-12-01T00:00"
            what:
              provider: sinch
              text: "Hi {{ user.name }} {% if x %}"
              max_segments: 20
            goal: {control_group: 100}
            """);
        Assert.False(result.IsValid);
        var paths = result.Problems.Select(p => p.Path).ToList();
        Assert.Equal(
        [
            "colour", "id", "name",
            "who.trigger.event", "who.trigger.where[0].op", "who.trigger.where[1].value", "who.trigger.inaction.within",
            "who.reach.percent", "who.reach.limit",
            "when.timezone", "when.dnd.from", "when.dnd.action", "when.start",
            "what.text", "what.max_segments",
            "goal.control_group",
        ], paths);
        Assert.Contains(result.Problems, p => p is { Path: "who.trigger.inaction.within", Message: "must be a duration like 30s, 5m, 2h or 7d", Line: 7 });
        Assert.Contains(result.Problems, p => p.Path == "colour" && p.Message.StartsWith("unknown field", StringComparison.Ordinal));
        Assert.Contains(result.Problems, p => p.Path == "when.timezone" && p.Message.Contains("Mars/Olympus", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("id: x\nname: y\ntype: live\nwhat: {provider: p, text: t}", "who.trigger: a live campaign needs a trigger")]
    [InlineData("id: x\nname: y\ntype: scheduled\nwhat: {provider: p, text: t}", "when: a scheduled campaign needs when.at or when.every")]
    [InlineData("id: x\nname: y\ntype: weekly\nwhat: {provider: p, text: t}", "type: must be one of: live, scheduled (line 3, column 7)")]
    [InlineData("id: x\nname: y\ntype: live\nwho: {trigger: {event: e}}\nwhen: {start: \"2026-12-02T00:00Z\", end: \"2026-12-01T00:00Z\"}\nwhat: {provider: p, text: t}", "when.end: must be after when.start (line 5, column 41)")]
    [InlineData("id: x\nname: y\ntype: live\nwho: {trigger: {event: e}}\nwhen: {end: \"2026-02-30T00:00Z\"}\nwhat: {provider: p, text: t}", "when.end: 2026-02-30T00:00Z: no such date 2026-02-30 (February 2026 has 28 days)")]
    [InlineData("id: x\nname: y\ntype: scheduled\nwhen: {at: [\"2026-04-31T10:00\"]}\nwhat: {provider: p, text: t}", "when.at[0]: 2026-04-31T10:00: no such date 2026-04-31 (April 2026 has 30 days)")]
    [InlineData("id: x\nid: y", "$: invalid YAML: Duplicate key id (line 2, column 1)")]
    [InlineData("id: [unclosed", "$: invalid YAML")]
    [InlineData("{\"id\": ", "$: invalid JSON")]
    [InlineData("id: x\nname: y\ntype: scheduled\nwho: {segment: {all: []}}\nwhen: {every: {cron: \"not cron\"}}\nwhat: {provider: p, text: t}", "who.segment.all: must be a non-empty list")]
    public void Validation_messages_name_the_path_and_the_reason(string spec, string expected)
    {
        var problems = CampaignSpecParser.Parse(spec).Problems.Select(p => p.ToString()).ToList();
        Assert.Contains(problems, p => p.StartsWith(expected, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("{date: {event: Flight Booked, prop: departure, offset: -2d, at: \"10:00\"}}", null)]
    [InlineData("{event: Flight Booked, date: {prop: departure, at: \"10:00\"}}", null)]
    [InlineData("{event: Flight Booked, date: {event: Flight Booked, prop: departure, at: \"10:00\"}}", null)]
    [InlineData("{event: Signed Up, date: {event: Flight Booked, prop: departure, at: \"10:00\"}}", "who.trigger.date.event: must be the trigger's event ('Signed Up'): that event carries the date")]
    [InlineData("{date: {prop: departure, at: \"10:00\"}}", "who.trigger.date.event: is required")]
    public void A_date_reminder_is_a_complete_trigger_whose_event_the_trigger_may_repeat(string trigger, string? problem)
    {
        var result = CampaignSpecParser.Parse($"id: x\nname: y\ntype: live\nwho: {{trigger: {trigger}}}\nwhat: {{provider: p, text: t}}");
        if (problem is not null)
        {
            Assert.Contains(result.Problems, p => p.ToString().StartsWith(problem, StringComparison.Ordinal));
            return;
        }
        Assert.True(result.IsValid, string.Join("; ", result.Problems));
        Assert.Equal(("Flight Booked", "Flight Booked", "departure"), (result.Spec!.Who.Trigger!.Event, result.Spec.Who.Trigger.Date!.Event, result.Spec.Who.Trigger.Date.Prop));
    }

    [Fact]
    public void Apply_refuses_every_field_the_pipeline_does_not_honour_yet()
    {
        var result = CampaignSpecParser.Parse(Full);
        Assert.Equal(
        [
            "who.reach.run_limit", "who.reach.safety_limit", "when.deliver_in",
            "when.best_time",
        ], SupportCheck.UnsupportedPaths(result.Spec!, result.Document));
    }

    [Fact]
    public void A_minimal_live_campaign_is_fully_supported()
    {
        var result = CampaignSpecParser.Parse("""
            id: welcome
            name: Welcome
            type: live
            who: {trigger: {event: Signed Up, where: [{prop: plan, op: in, value: [pro, team]}]}}
            when: {timezone: Asia/Kolkata, start: "2026-12-01T00:00Z", end: "2026-12-31T23:59+05:30"}
            what: {provider: sandbox, from: "+14155550100", text: "Welcome {{ profile.first_name | default: 'friend' }}"}
            """);
        Assert.True(result.IsValid, string.Join("\n", result.Problems));
        Assert.Empty(SupportCheck.UnsupportedPaths(result.Spec!, result.Document));
    }

    [Theory]
    [InlineData("{did: {event: Charged, where: [{prop: value, op: gt, value: 5}]}}", "who.segment.did.where: the live path counts events per day")]
    [InlineData("{all: [{profile: {prop: city, op: eq, value: Pune}}, {not: {did: {event: Charged, within: 12h}}}]}", "who.segment.all[1].not.did.within: the live path counts whole days up to 90d")]
    [InlineData("{did: {event: Charged, within: 91d}}", "who.segment.did.within: the live path counts whole days up to 90d")]
    public void Apply_refuses_live_segments_the_live_path_cannot_evaluate_inline(string segment, string expected)
    {
        var result = CampaignSpecParser.Parse($"id: x\nname: x\ntype: live\nwho: {{trigger: {{event: Opened}}, segment: {segment}}}\nwhat: {{provider: sandbox, text: hi}}");
        Assert.True(result.IsValid, string.Join("\n", result.Problems));
        Assert.Contains(SupportCheck.UnsupportedPaths(result.Spec!, result.Document), p => p.StartsWith(expected, StringComparison.Ordinal));
    }
}
