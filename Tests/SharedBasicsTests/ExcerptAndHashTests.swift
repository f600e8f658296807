import SharedBasics
import Testing

@Suite("Excerpt and SHA256")
struct ExcerptAndHashTests {
    @Test func shortValuesAreQuotedWhole() {
        #expect(Excerpt.quoted("TURBO") == "'TURBO'")
        #expect(Excerpt.quoted("") == "''")
    }

    @Test func longValuesAreCutToAPrefixWithTheirLength() {
        let symbol = String(repeating: "A", count: 10_240)
        let quoted = Excerpt.quoted(symbol)
        #expect(quoted == "'\(String(repeating: "A", count: Excerpt.defaultLimit))…' (10240 characters)")
        #expect(quoted.count < 80)
    }

    @Test func controlCharactersCannotForgeALogLine() {
        #expect(Excerpt.quoted("a\nb\u{1b}[31m") == "'a?b?[31m'")
    }

    @Test func utf8PrefixEndsOnACharacterBoundary() {
        let text = String(repeating: "é", count: 10)  // 2 bytes each
        let cut = Excerpt.utf8Prefix(text, maxBytes: 5)
        #expect(cut.text == "éé")
        #expect(cut.truncated)
        #expect(Excerpt.utf8Prefix("abc", maxBytes: 3) == ("abc", false))
    }

    @Test func sha256MatchesTheFIPSVectors() {
        #expect(SHA256.hex(of: "".utf8) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(of: "abc".utf8) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(
            SHA256.hex(of: "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        )
        var incremental = SHA256()
        for _ in 0..<1_000 { incremental.update(Array(repeating: UInt8(ascii: "a"), count: 1_000)) }
        #expect(incremental.finalizeHex() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }
}
