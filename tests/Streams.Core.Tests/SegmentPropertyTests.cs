using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Streams.Core.Tests;

/// <summary>
/// Segment counting against a reference that knows each generated piece's category and cost and
/// packs the pieces into actual parts, never splitting one.
/// </summary>
public sealed class SegmentPropertyTests
{
    private enum Kind { Basic, Extension, Bmp, Astral }

    private static readonly (string Text, Kind Kind)[] Pieces =
    [
        ("a", Kind.Basic), ("Z", Kind.Basic), ("0", Kind.Basic), (" ", Kind.Basic), ("@", Kind.Basic), ("é", Kind.Basic),
        ("Ω", Kind.Basic), ("\n", Kind.Basic), ("£", Kind.Basic), ("ü", Kind.Basic),
        ("{", Kind.Extension), ("}", Kind.Extension), ("[", Kind.Extension), ("€", Kind.Extension), ("~", Kind.Extension),
        ("\\", Kind.Extension), ("^", Kind.Extension), ("|", Kind.Extension),
        ("ç", Kind.Bmp), ("ą", Kind.Bmp), ("й", Kind.Bmp), ("中", Kind.Bmp), ("’", Kind.Bmp), ("ı", Kind.Bmp),
        ("😜", Kind.Astral), ("🛒", Kind.Astral), ("𝄞", Kind.Astral),
    ];

    private static Gen<(string Text, Kind Kind)[]> Texts(params Kind[] kinds)
    {
        var pool = Pieces.Where(p => kinds.Contains(p.Kind)).ToArray();
        return Gen.Choose(0, 480).SelectMany(n => Gen.ArrayOf(Gen.Elements(pool), n));
    }

    private static (string Encoding, int Units, int Segments) Reference((string Text, Kind Kind)[] pieces)
    {
        var gsm = pieces.All(p => p.Kind is Kind.Basic or Kind.Extension);
        int Cost((string Text, Kind Kind) p) => gsm ? (p.Kind == Kind.Extension ? 2 : 1) : p.Text.Length;
        var (single, perPart) = gsm ? (160, 153) : (70, 67);
        var units = pieces.Sum(Cost);
        if (units <= single) return (gsm ? "GSM-7" : "UCS-2", units, 1);
        var parts = new List<List<string>> { new() };
        var used = 0;
        foreach (var piece in pieces)
        {
            if (used + Cost(piece) > perPart)
            {
                parts.Add([]);
                used = 0;
            }
            parts[^1].Add(piece.Text);
            used += Cost(piece);
        }
        return (gsm ? "GSM-7" : "UCS-2", units, parts.Count);
    }

    private static Property Agrees(Gen<(string Text, Kind Kind)[]> gen) =>
        Prop.ForAll(gen.ToArbitrary(), pieces =>
        {
            var info = SmsEncoding.Analyze(string.Concat(pieces.Select(p => p.Text)));
            return (info.Encoding, info.Units, info.Segments) == Reference(pieces);
        });

    [Property(MaxTest = 300)]
    public Property Gsm_text_with_extension_characters_counts_like_the_reference() => Agrees(Texts(Kind.Basic, Kind.Extension));

    [Property(MaxTest = 300)]
    public Property Mixed_text_with_bmp_and_astral_characters_counts_like_the_reference() =>
        Agrees(Texts(Kind.Basic, Kind.Extension, Kind.Bmp, Kind.Astral));

    [Property(MaxTest = 300)]
    public Property Astral_heavy_text_counts_like_the_reference() => Agrees(Texts(Kind.Astral, Kind.Basic));

    [Fact]
    public void Smart_encoding_keeps_a_message_in_gsm7_only_when_that_is_possible()
    {
        Assert.Equal("It's \"done\" - ok...", SmsEncoding.SmartEncode("It\u2019s \u201Cdone\u201D \u2014 ok\u2026"));
        Assert.Equal("GSM-7", SmsEncoding.Analyze(SmsEncoding.SmartEncode("It\u2019s\u00A0here\u200B")).Encoding);
        Assert.Equal("It\u2019s 😜", SmsEncoding.SmartEncode("It\u2019s 😜"));
        Assert.Equal("plain", SmsEncoding.SmartEncode("plain"));
    }
}
