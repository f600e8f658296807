import SharedBasics
import Testing

@Suite("Redaction")
struct RedactionTests {
    @Test(arguments: [
        ("redis://:s3cret@cache:6379/0", "redis://:***@cache:6379/0"),
        ("postgres://app:hunter2@db:5432/market?sslmode=disable", "postgres://app:***@db:5432/market?sslmode=disable"),
        ("postgres://app@db/market", "postgres://app@db/market"),
        ("host=db user=app password=hunter2 dbname=x", "host=db user=app password=*** dbname=x"),
        ("postgres://db/market?user=app&password=hunter2&sslmode=off", "postgres://db/market?user=app&password=***&sslmode=off"),
        ("PASSWORD=a password=b", "PASSWORD=*** password=***"),
    ])
    func urlPasswords(text: String, redacted: String) {
        #expect(Redaction.redactURLPassword(text) == redacted)
    }

    @Test func scrubRemovesThePasswordWhereverAMessageQuotesIt() {
        let url = "postgres://app:hunter2@db:5432/market"
        #expect(Redaction.scrub("auth failed for hunter2 (hunter2)", connectionString: url) == "auth failed for *** (***)")
        let pairs = "host=db password='quoted' user=app"
        #expect(Redaction.scrub("rejected 'quoted'", connectionString: pairs) == "rejected '***'")
        #expect(Redaction.scrub("x=topsecret", connectionString: "host=db", password: "topsecret") == "x=***")
        #expect(Redaction.scrub("a b", connectionString: "postgres://u:a@h/d", minimumLength: 2) == "a b")
        #expect(Redaction.scrub("no secret here", connectionString: "host=db") == "no secret here")
    }
}
