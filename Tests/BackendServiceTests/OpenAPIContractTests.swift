import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import TestSupport

@testable import BackendService

@Suite("BackendService OpenAPI spec")
struct BackendOpenAPITests {
    static let spec = OpenAPISpec.file("backend-service.yaml")

    @Test("docs/openapi/backend-service.yaml lists exactly the router's routes and methods")
    func specMatchesRouter() async throws {
        let redis = try await RedisServer.shared
        let database = try await PostgresCluster.shared.createDatabase()
        let registered = RouteRecorder()
        let app = try await buildApplication(
            TestArguments(redisURL: redis.url, databaseURL: database), configuration: ServiceEnvironment.unreachable(except: ["REDIS_URL", "DATABASE_URL"])
        ) { router in
            registered.record(router.routes.map { "\($0.method) \($0.path)" })
        }
        try await app.test(.router) { _ in }
        let routes = registered.all
        let documented = try OpenAPISpec.operations(file: Self.spec)
        #expect(routes.contains("GET /fo/strike-distribution"), "the route list is read: \(routes.sorted())")
        #expect(routes.subtracting(documented).isEmpty, "routed but not in the spec: \(routes.subtracting(documented).sorted())")
        #expect(documented.subtracting(routes).isEmpty, "in the spec but not routed: \(documented.subtracting(routes).sorted())")
    }

    @Test("docs/openapi/backend-service.yaml is valid OpenAPI 3 (openapi-spec-validator)")
    func specIsValid() throws {
        let problems = try OpenAPISpec.validationProblems(file: Self.spec)
        #expect(problems == nil, "\(problems ?? "")")
    }

    @Test("every documented path answers an undocumented method with 405 and an Allow header listing the documented ones")
    func undocumentedMethodsAre405() async throws {
        let redis = try await RedisServer.shared
        let database = try await PostgresCluster.shared.createDatabase()
        let app = try await buildApplication(
            TestArguments(redisURL: redis.url, databaseURL: database), configuration: ServiceEnvironment.unreachable(except: ["REDIS_URL", "DATABASE_URL"])
        )
        let documented = try OpenAPISpec.methodsByPath(file: Self.spec)
        try await app.test(.router) { client in
            for (path, methods) in documented {
                for method in [HTTPRequest.Method.get, .post, .put, .delete, .patch] where !methods.contains(method.rawValue) {
                    let response: TestResponse = try await client.execute(uri: OpenAPISpec.concretePath(path), method: method)
                    #expect(response.status == .methodNotAllowed, "\(method) \(path)")
                    let allow = Set((response.headers[.allow] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
                    #expect(allow == methods, "\(method) \(path): Allow \(allow.sorted()), spec \(methods.sorted())")
                    #expect(response.headers[.contentType] == "application/json", "\(method) \(path)")
                }
            }
        }
    }
}
