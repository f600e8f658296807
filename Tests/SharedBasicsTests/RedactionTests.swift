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
        // Every form libpq's conninfo parser accepts: quotes, escapes, spaces around '=', multi-host.
        ("host=127.0.0.1 password='pg pw777' dbname=marketdata", "host=127.0.0.1 password=*** dbname=marketdata"),
        (#"password='it\'s \\ here' user=app"#, "password=*** user=app"),
        ("host=db password = spaced dbname=x", "host=db password = *** dbname=x"),
        (#"password=back\ slash dbname=x"#, "password=*** dbname=x"),
        ("host=h1,h2 port=5432,5433 password=multi target_session_attrs=read-write", "host=h1,h2 port=5432,5433 password=*** target_session_attrs=read-write"),
        ("password='' dbname=x", "password=*** dbname=x"),
        ("user=app password='unterminated", "user=app password=***"),
        ("user=app password", "user=app password"),
        // URLs: user info (percent-encoded), password query parameters, Redis forms, fragments.
        ("postgresql://u:p%40ss@h:5432/db", "postgresql://u:***@h:5432/db"),
        ("postgresql://u:pw@h1:5432,h2:5433/db?target_session_attrs=read-write", "postgresql://u:***@h1:5432,h2:5433/db?target_session_attrs=read-write"),
        ("postgresql://u@h/db?sslmode=off&password=q1&PASSWORD=q2", "postgresql://u@h/db?sslmode=off&password=***&PASSWORD=***"),
        ("postgresql:///db?host=/tmp&password=sock", "postgresql:///db?host=/tmp&password=***"),
        ("redis://user:pw@cache:6379/2", "redis://user:***@cache:6379/2"),
        ("rediss://:pw@cache:6380?password=again#x", "rediss://:***@cache:6380?password=***#x"),
        ("redis://cache:6379/0", "redis://cache:6379/0"),
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
        // The server quotes the value it saw: unescaped, and percent-decoded for URLs.
        #expect(Redaction.scrub("password 'pg pw777' rejected", connectionString: "host=h password='pg pw777'") == "password '***' rejected")
        #expect(Redaction.scrub("for p@ss", connectionString: "postgresql://u:p%40ss@h/db") == "for ***")
        #expect(Redaction.scrub(#"it's \ here"#, connectionString: #"password='it\'s \\ here'"#) == "***")
    }
}
