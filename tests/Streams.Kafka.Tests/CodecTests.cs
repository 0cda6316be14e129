using System.Text;
using Avro.Generic;
using Avro.IO;
using Streams.Core;

namespace Streams.Kafka.Tests;

public sealed class CodecTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);
    private static readonly Dictionary<string, object?> Props = new() { ["product"] = "Shoes", ["value"] = 799.5, ["qty"] = 2L, ["gift"] = true, ["note"] = null };

    private static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public void A_run_record_and_an_alert_round_trip_through_avro_and_json()
    {
        var run = new Core.Schedules.RunRecord("weekly@20261201T0430Z", "weekly", 3, At, Core.Schedules.RunStatus.Planned, At.AddSeconds(5),
            Qualified: 1000, Planned: 400, NotSampled: 500, OverLimit: 100, LateSkipped: 2, Cursor: "u0399", Reason: null,
            Zones: new Dictionary<string, long> { ["Asia/Kolkata"] = 400 }, Marks: new Dictionary<string, long> { ["sms.requests:0"] = 120 }, Planner: "host/42");
        var back = Codecs.RunRecord.DecodeOwn(Codecs.RunRecord.Encode(run));
        Assert.Equal((run.RunId, run.CampaignVersion, run.Occurrence, run.Qualified, run.Planned, run.NotSampled, run.OverLimit, run.LateSkipped, run.Cursor, run.Planner),
            (back.RunId, back.CampaignVersion, back.Occurrence, back.Qualified, back.Planned, back.NotSampled, back.OverLimit, back.LateSkipped, back.Cursor, back.Planner));
        Assert.Equal(run.Zones, back.Zones);
        Assert.Equal(run.Marks, back.Marks);
        var json = Codecs.RunRecord.TryDecode(Utf8("""{"run_id":"r","campaign_id":"c","occurrence":"2026-12-01T10:00:00Z","status":"held","updated_at":1796119200000,"qualified":12,"zones":{"UTC":3}}"""));
        Assert.True(json.Ok, json.Error?.ToString());
        Assert.Equal(("held", 12L, 3L), (json.Value!.Status, json.Value.Qualified, json.Value.Zones!["UTC"]));
        Assert.False(Codecs.RunRecord.TryDecode(Utf8("""{"run_id":"r","campaign_id":"c","occurrence":"2026-12-01T10:00:00Z","status":"held","updated_at":0,"extra":1}""")).Ok);

        var alert = new Core.Schedules.Alert(Core.Schedules.Alert.SafetyHold, "weekly", "weekly@20261201T0430Z", "too many", At);
        Assert.Equal(alert, Codecs.Alert.DecodeOwn(Codecs.Alert.Encode(alert)));
    }

    [Fact]
    public void Every_schema_file_parses_and_has_a_distinct_fingerprint()
    {
        Assert.Equal(11, Schemas.All.Count);
        Assert.Equal(11, Schemas.All.Select(s => Convert.ToHexString(Schemas.Fingerprint(s))).Distinct().Count());
        Assert.Equal("streams.SmsRequest", ((Avro.RecordSchema)Schemas.ScheduledRequest["request"].Schema).Fullname);
    }

    [Fact]
    public void A_membership_round_trips_through_avro_and_json_and_an_empty_set_stays_empty()
    {
        var m = new Membership("u1", ["big-buyers", "mumbai"], At);
        Assert.Equal(m, Codecs.Membership.Decode(Codecs.Membership.Encode(m)));
        var none = new Membership("u2", [], At);
        Assert.Equal(none, Codecs.Membership.Decode(Codecs.Membership.Encode(none)));
        Assert.Equal(m, Codecs.Membership.Decode(Utf8("""{"user_id":"u1","segments":["big-buyers","mumbai"],"evaluated_at":"2026-12-01T10:00:00Z"}""")));
    }

    [Fact]
    public void User_event_round_trips_through_single_object_encoding()
    {
        var ev = new UserEvent("u1", "Added To Cart", At, Props);
        var bytes = Codecs.UserEvent.Encode(ev);
        Assert.Equal([0xC3, 0x01], bytes[..2]);
        var back = Codecs.UserEvent.Decode(bytes);
        Assert.Equal((ev.UserId, ev.Name, ev.Ts), (back.UserId, back.Name, back.Ts));
        Assert.Equal(Props, back.Props);
    }

    [Fact]
    public void Confluent_wire_format_is_read_with_the_topic_schema()
    {
        var soe = Codecs.UserEvent.Encode(new UserEvent("u1", "Charged", At, Props));
        var wire = new byte[] { 0, 0, 0, 0, 42 }.Concat(soe[10..]).ToArray();
        Assert.Equal("Charged", Codecs.UserEvent.Decode(wire).Name);
    }

    [Fact]
    public void Json_event_accepts_iso_time_with_offset_and_epoch_millis()
    {
        var iso = Codecs.UserEvent.Decode(Utf8("""{"user_id":"u1","name":"X","ts":"2026-12-01T15:30:00+05:30","props":{"value":799.0,"n":3}}"""));
        var ms = Codecs.UserEvent.Decode(Utf8($$"""{"user_id":"u1","name":"X","ts":{{At.ToUnixTimeMilliseconds()}}}"""));
        Assert.Equal(At, iso.Ts);
        Assert.Equal(At, ms.Ts);
        Assert.Equal(799.0, iso.Props["value"]);
        Assert.Equal(3L, iso.Props["n"]);
    }

    [Fact]
    public void Profile_request_result_and_campaign_round_trip()
    {
        var profile = new ProfileUpdate("u1", At, "+919876543210", "Asia/Kolkata", false, Props);
        var p = Codecs.ProfileUpdate.Decode(Codecs.ProfileUpdate.Encode(profile));
        Assert.Equal((profile.Phone, profile.Timezone, profile.SmsOptIn), (p.Phone, p.Timezone, p.SmsOptIn));

        var request = new SmsRequest("r1", "cart", 3, "u1", At,
            new RequestContext("Added To Cart", At, Props, "+919876543210", null, true, new Dictionary<string, object?> { ["first_name"] = "Asha" }));
        var r = Codecs.SmsRequest.Decode(Codecs.SmsRequest.Encode(request));
        Assert.Equal((request.RequestId, request.CampaignVersion, request.CreatedAt), (r.RequestId, r.CampaignVersion, r.CreatedAt));
        Assert.Equal(request.Context with { EventProps = Props, ProfileProps = r.Context.ProfileProps }, r.Context with { EventProps = Props });
        Assert.Equal("Asha", r.Context.ProfileProps["first_name"]);

        var result = new SmsResult("r1", "m1", "cart", "u1", ResultStatus.Delivered, null, "sandbox", 2, "UCS-2", At);
        Assert.Equal(result, Codecs.SmsResult.Decode(Codecs.SmsResult.Encode(result)));
        var sent = result with { Status = ResultStatus.Sent, Holds = ["u|limit:cart|34560000", "m|cap:u1:d:2026-12-01|172800"] };
        var back = Codecs.SmsResult.Decode(Codecs.SmsResult.Encode(sent));
        Assert.Equal(sent.Holds, back.Holds);
        Assert.Equal(sent.Holds, Codecs.SmsResult.DecodeOwn(System.Text.Encoding.UTF8.GetBytes(
            """{"request_id":"r1","campaign_id":"cart","user_id":"u1","status":"sent","ts":"2026-12-01T10:00:00Z","holds":["u|limit:cart|34560000","m|cap:u1:d:2026-12-01|172800"]}""")).Holds);

        var campaign = new CampaignRecord("cart", 2, CampaignStatus.Paused, "{\"id\":\"cart\"}", At);
        Assert.Equal(campaign, Codecs.CampaignRecord.Decode(Codecs.CampaignRecord.Encode(campaign)));
    }

    public static TheoryData<string, byte[], string> Rejections()
    {
        var good = Codecs.UserEvent.Encode(new UserEvent("u1", "X", At, Props));
        var otherSchema = Codecs.SmsResult.Encode(new SmsResult("r", null, "c", "u", "sent", null, null, 0, null, At));
        return new TheoryData<string, byte[], string>
        {
            { "empty value", [], DecodeReasons.Empty },
            { "over the size limit", Utf8("{\"user_id\":\"" + new string('x', 70_000) + "\"}"), DecodeReasons.Oversize },
            { "neither Avro nor JSON", Utf8("hello"), DecodeReasons.UnknownFormat },
            { "JSON array", Utf8("[1,2]"), DecodeReasons.UnknownFormat },
            { "another schema's fingerprint", otherSchema, DecodeReasons.UnknownSchema },
            { "truncated single-object header", good[..6], DecodeReasons.BadAvro },
            { "truncated Avro body", good[..(good.Length - 3)], DecodeReasons.BadAvro },
            { "bytes after the record", [.. good, 1, 2, 3], DecodeReasons.BadAvro },
            { "truncated Confluent header", [0, 0, 1], DecodeReasons.BadAvro },
            { "broken JSON", Utf8("{\"user_id\": \"u1\","), DecodeReasons.BadJson },
            { "missing name", Utf8("""{"user_id":"u1","ts":"2026-12-01T10:00:00Z"}"""), DecodeReasons.MissingField },
            { "missing ts", Utf8("""{"user_id":"u1","name":"X"}"""), DecodeReasons.MissingField },
            { "number as name", Utf8("""{"user_id":"u1","name":5,"ts":"2026-12-01T10:00:00Z"}"""), DecodeReasons.WrongType },
            { "nested props value", Utf8("""{"user_id":"u1","name":"X","ts":"2026-12-01T10:00:00Z","props":{"a":{"b":1}}}"""), DecodeReasons.WrongType },
            { "unknown field", Utf8("""{"user_id":"u1","name":"X","ts":"2026-12-01T10:00:00Z","colour":"red"}"""), DecodeReasons.UnknownField },
            { "time without offset", Utf8("""{"user_id":"u1","name":"X","ts":"2026-12-01T10:00:00"}"""), DecodeReasons.InvalidValue },
            { "impossible date", Utf8("""{"user_id":"u1","name":"X","ts":"2026-02-30T10:00:00Z"}"""), DecodeReasons.InvalidValue },
            { "empty user id", Utf8("""{"user_id":"","name":"X","ts":"2026-12-01T10:00:00Z"}"""), DecodeReasons.InvalidValue },
        };
    }

    [Theory]
    [MemberData(nameof(Rejections))]
    public void Malformed_event_is_rejected_with_a_reason(string why, byte[] bytes, string reason)
    {
        var decoded = Codecs.UserEvent.TryDecode(bytes);
        Assert.False(decoded.Ok, why);
        Assert.Equal(reason, decoded.Error!.Reason);
        Assert.False(string.IsNullOrWhiteSpace(decoded.Error.Message));
    }

    [Fact]
    public void An_impossible_date_says_there_is_no_such_date()
    {
        var decoded = Codecs.UserEvent.TryDecode(Utf8("""{"user_id":"u1","name":"X","ts":"2026-02-30T10:00:00Z"}"""));
        Assert.Equal("'ts' '2026-02-30T10:00:00Z': no such date 2026-02-30 (February 2026 has 28 days)", decoded.Error!.Message);
    }

    [Fact]
    public void Profile_with_an_unknown_time_zone_is_rejected()
    {
        var decoded = Codecs.ProfileUpdate.TryDecode(Utf8("""{"user_id":"u1","ts":"2026-12-01T10:00:00Z","timezone":"Mars/Base"}"""));
        Assert.Equal(DecodeReasons.InvalidValue, decoded.Error!.Reason);
        Assert.Contains("Mars/Base", decoded.Error.Message);
    }

    [Fact]
    public void Avro_with_a_huge_string_length_is_rejected_not_allocated()
    {
        // A varint string length of ~1 GB followed by nothing.
        using var stream = new MemoryStream();
        stream.Write([0xC3, 0x01]);
        stream.Write(Schemas.Fingerprint(Schemas.UserEvent));
        new BinaryEncoder(stream).WriteLong(1_000_000_000);
        Assert.Equal(DecodeReasons.BadAvro, Codecs.UserEvent.TryDecode(stream.ToArray()).Error!.Reason);
    }

    [Fact]
    public void Avro_record_written_with_an_empty_user_id_is_rejected()
    {
        var record = new GenericRecord(Schemas.UserEvent);
        record.Add("user_id", "");
        record.Add("name", "X");
        record.Add("ts", At.UtcDateTime);
        record.Add("props", new Dictionary<string, object>());
        using var stream = new MemoryStream();
        stream.Write([0xC3, 0x01]);
        stream.Write(Schemas.Fingerprint(Schemas.UserEvent));
        new GenericDatumWriter<GenericRecord>(Schemas.UserEvent).Write(record, new BinaryEncoder(stream));
        Assert.Equal(DecodeReasons.InvalidValue, Codecs.UserEvent.TryDecode(stream.ToArray()).Error!.Reason);
    }
}
