namespace Streams.Core.Tests;

public sealed class TimestampTests
{
    [Theory]
    [InlineData("2026-02-30T10:00:00Z", "no such date 2026-02-30 (February 2026 has 28 days)")]
    [InlineData("2028-02-30T10:00:00Z", "no such date 2028-02-30 (February 2028 has 29 days)")]
    [InlineData("2026-04-31T10:00Z", "no such date 2026-04-31 (April 2026 has 30 days)")]
    [InlineData("2026-13-01T10:00:00Z", "no such month 13 (months go from 01 to 12)")]
    [InlineData("2026-12-01T25:00:00Z", "no such time of day 25:00:00")]
    [InlineData("2026-12-01T10:61Z", "no such time of day 10:61")]
    [InlineData("2026-12-01T10:00:00", "no offset: add Z for UTC or one like +05:30")]
    [InlineData("2026-12-01", "a date without a time of day (e.g. 2026-12-01T10:00:00Z)")]
    [InlineData("2026-12-01T10:00:00+15:00", "no such offset +15:00 (offsets go from -14:00 to +14:00)")]
    [InlineData("yesterday", "not an ISO-8601 time with an offset (e.g. 2026-12-01T10:00:00Z)")]
    public void An_impossible_or_incomplete_time_is_explained(string text, string why)
    {
        Assert.False(Timestamps.TryParseInstant(text, out _));
        Assert.Equal(why, Timestamps.WhyNotInstant(text));
    }
}
