using System.Globalization;
using Streams.Core;

namespace Streams.Jobs;

/// <summary>
/// A synthetic, realistic history for trials, demos and benchmarks: users in six countries (their phone numbers,
/// cities and time zones; a few without a phone or with a bad one), profile properties of every kind segments
/// filter on (text, numbers, booleans, dates), and events of five names with properties, spread over the last
/// <c>days</c> days with a skewed activity per user (a few users do most). The same seed gives the same history.
/// </summary>
public sealed class HistoryGenerator(int users, int days, int eventsPerUser, DateTimeOffset now, int seed = 42)
{
    private sealed record Country(string Code, string Prefix, string[] Zones, string[] Cities, Func<Random, string> National);

    private static readonly Country[] Countries =
    [
        new("IN", "+91", ["Asia/Kolkata"], ["Mumbai", "Delhi", "Bengaluru", "Pune", "Chennai"], r => $"9{r.Next(100_000_000, 999_999_999)}"),
        new("US", "+1", ["America/New_York", "America/Chicago", "America/Los_Angeles"], ["New York", "Chicago", "San Francisco", "Austin"],
            r => $"{r.Next(2, 10)}{r.Next(0, 10)}{r.Next(2, 10)}{r.Next(200, 1000)}{r.Next(1000, 10_000)}"),
        new("GB", "+44", ["Europe/London"], ["London", "Manchester", "Leeds"], r => $"7{r.Next(400, 1000)}{r.Next(100_000, 1_000_000)}"),
        new("BR", "+55", ["America/Sao_Paulo"], ["São Paulo", "Rio de Janeiro"], r => $"119{r.Next(6000, 10_000)}{r.Next(1000, 10_000)}"),
        new("ID", "+62", ["Asia/Jakarta"], ["Jakarta", "Surabaya"], r => $"812{r.Next(1000, 10_000)}{r.Next(1000, 10_000)}"),
        new("AU", "+61", ["Australia/Sydney"], ["Sydney", "Melbourne"], r => $"4{r.Next(10, 100)}{r.Next(100_000, 1_000_000)}"),
    ];

    private static readonly (string Name, int Weight)[] Names =
        [("App Launched", 40), ("Browsed", 25), ("Searched", 12), ("Added To Cart", 15), ("Charged", 8)];

    private static readonly string[] Plans = ["free", "basic", "pro"];
    private static readonly string[] Categories = ["shoes", "phones", "books", "toys", "groceries"];
    private static readonly string[] FirstNames = ["Asha", "Ravi", "Maya", "John", "Lucia", "Ana", "Budi", "Emma", "Noah", "Priya"];

    public static string UserId(int n) => $"user-{n:D7}";

    /// <summary>Each user's profile update (one per user), in user order.</summary>
    public IEnumerable<ProfileUpdate> Profiles()
    {
        var random = new Random(seed);
        for (var n = 0; n < users; n++)
        {
            var country = Countries[Pick(random, [50, 20, 10, 8, 7, 5])];
            var phone = random.Next(100) switch
            {
                < 2 => null,                                  // no phone
                < 4 => country.Prefix + "12345",              // too short: not a valid number
                _ => country.Prefix + country.National(random),
            };
            var signup = now.AddDays(-random.Next(days, days + 400));
            var props = new Dictionary<string, object?>
            {
                ["first_name"] = FirstNames[random.Next(FirstNames.Length)],
                ["city"] = country.Cities[random.Next(country.Cities.Length)],
                ["country"] = country.Code,
                ["plan"] = Plans[Pick(random, [60, 30, 10])],
                ["age"] = (long)random.Next(18, 71),
                ["vip"] = random.Next(100) < 7,
                ["signup_date"] = signup.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                ["renewal"] = now.AddDays(random.Next(-60, 61)).UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            };
            yield return new ProfileUpdate(UserId(n), signup, phone, country.Zones[random.Next(country.Zones.Length)], random.Next(100) >= 3, props);
        }
    }

    /// <summary>About users × eventsPerUser events, user by user, each user's in time order.</summary>
    public IEnumerable<UserEvent> Events()
    {
        var random = new Random(seed + 1);
        var span = TimeSpan.FromDays(days).TotalSeconds;
        for (var n = 0; n < users; n++)
        {
            // Activity is skewed: an exponential weight with mean 1 keeps the average at eventsPerUser.
            var count = (int)Math.Round(-Math.Log(1 - random.NextDouble()) * eventsPerUser);
            var times = new double[count];
            for (var i = 0; i < count; i++) times[i] = random.NextDouble() * span;
            Array.Sort(times);
            var user = UserId(n);
            foreach (var t in times)
            {
                var ts = DateTimeOffset.FromUnixTimeSeconds(now.ToUnixTimeSeconds() - (long)(span - t));
                var name = Names[Pick(random, Names.Select(x => x.Weight).ToArray())].Name;
                yield return new UserEvent(user, name, ts, name switch
                {
                    "Charged" => new Dictionary<string, object?> { ["amount"] = (long)random.Next(50, 5001), ["currency"] = "INR" },
                    "Added To Cart" => new Dictionary<string, object?> { ["product"] = Categories[random.Next(Categories.Length)], ["value"] = (long)random.Next(100, 3001) },
                    "Browsed" or "Searched" => new Dictionary<string, object?> { ["category"] = Categories[random.Next(Categories.Length)] },
                    _ => Props.Empty,
                });
            }
        }
    }

    private static int Pick(Random random, int[] weights)
    {
        var roll = random.Next(weights.Sum());
        for (var i = 0; i < weights.Length; i++)
        {
            if (roll < weights[i]) return i;
            roll -= weights[i];
        }
        return weights.Length - 1;
    }
}
