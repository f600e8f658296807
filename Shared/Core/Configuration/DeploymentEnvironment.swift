/// Where a service runs; selects defaults (for example, API keys are required outside `dev` and `test`).
public enum DeploymentEnvironment: String, Sendable, CaseIterable, Codable {
    case dev
    case test
    case staging
    case production

    /// Whether this is a developer's or a test run, where convenience defaults apply.
    public var isLocal: Bool { self == .dev || self == .test }
}
