using Streams.Tests;

namespace Streams.Core.Tests;

public sealed class RequestIdTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Same_campaign_user_and_event_give_the_same_id_and_any_difference_gives_another()
    {
        var id = RequestIds.ForTrigger("cart", "u1", "Added To Cart", At);
        Assert.Equal(id, RequestIds.ForTrigger("cart", "u1", "Added To Cart", At.ToOffset(TimeSpan.FromHours(5.5))));
        Assert.Equal(32, id.Length);
        Assert.NotEqual(id, RequestIds.ForTrigger("cart", "u2", "Added To Cart", At));
        Assert.NotEqual(id, RequestIds.ForTrigger("cart2", "u1", "Added To Cart", At));
        Assert.NotEqual(id, RequestIds.ForTrigger("cart", "u1", "Added To Cart", At.AddMilliseconds(1)));
    }

    [Fact]
    public void Phone_numbers_are_masked_to_country_code_and_last_two_digits()
    {
        Assert.Equal("+91********10", PhoneMask.Mask("+919876543210"));
        Assert.Equal("(none)", PhoneMask.Mask(null));
    }

    [Fact]
    public void Later_profile_updates_win_and_older_ones_only_fill_gaps()
    {
        var p = Profile.Empty("u1")
            .Merge(Build.Profile("u1", At, phone: "+1", props: ("city", "Pune")))
            .Merge(Build.Profile("u1", At.AddDays(-1), "+2", "Asia/Kolkata", null, ("city", "Goa"), ("age", 3L)))
            .Merge(Build.Profile("u1", At.AddDays(1), optIn: false));
        Assert.Equal(("+1", "Asia/Kolkata", (bool?)false, "Pune", (object?)3L), (p.Phone, p.Timezone, p.SmsOptIn, p.Props["city"], p.Props["age"]));
        Assert.Equal(At.AddDays(1), p.UpdatedAt);
    }
}

public sealed class KeywordTests
{
    [Theory]
    [InlineData("STOP", Keyword.Stop)]
    [InlineData(" stop ", Keyword.Stop)]
    [InlineData("Unsubscribe", Keyword.Stop)]
    [InlineData("stopall", Keyword.Stop)]
    [InlineData("cancel", Keyword.Stop)]
    [InlineData("END", Keyword.Stop)]
    [InlineData("quit", Keyword.Stop)]
    [InlineData("START", Keyword.Start)]
    [InlineData("unstop", Keyword.Start)]
    [InlineData("yes", Keyword.Start)]
    [InlineData("help", Keyword.Help)]
    [InlineData("INFO", Keyword.Help)]
    [InlineData("please stop", Keyword.None)]
    [InlineData("stopping", Keyword.None)]
    [InlineData("", Keyword.None)]
    public void Keywords_are_a_single_word_in_any_case(string body, Keyword expected) => Assert.Equal(expected, Keywords.Classify(body));
}
