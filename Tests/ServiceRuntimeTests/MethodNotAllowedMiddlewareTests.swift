import Hummingbird
import ServiceRuntime
import Testing

@Suite("Method not allowed")
struct MethodNotAllowedMiddlewareTests {
    let middleware = MethodNotAllowedMiddleware<BasicRequestContext>(routes: [
        (.get, "/subscriptions"), (.post, "/subscriptions"),
        (.get, "/subscriptions/:token"), (.delete, "/subscriptions/:token"),
        (.post, "/subscriptions/release"),
        (.get, "/files/**"),
    ])

    @Test("a literal path offers only its own methods, not those of a capture beside it, as the router resolves it")
    func literalBeatsCapture() {
        #expect(middleware.allowedMethods(path: "/subscriptions/release") == ["POST"])
        #expect(middleware.allowedMethods(path: "/subscriptions/150") == ["DELETE", "GET"])
        #expect(middleware.allowedMethods(path: "/subscriptions") == ["GET", "POST"])
    }

    @Test("an unknown path offers nothing; a recursive route matches below it")
    func unknownAndRecursive() {
        #expect(middleware.allowedMethods(path: "/nothing").isEmpty)
        #expect(middleware.allowedMethods(path: "/subscriptions/150/extra").isEmpty)
        #expect(middleware.allowedMethods(path: "/files/a/b") == ["GET"])
    }
}
