import Foundation

/// Where the platform's SQL migrations are: `Shared/Core/Migrations`, shipped as a resource bundle beside
/// the executables.
public enum PlatformMigrations {
    /// The directory holding `NNNN_name.sql` files.
    public static var directory: URL {
        // The folder is copied whole into the bundle; its absence would be a packaging bug.
        Bundle.module.url(forResource: "Migrations", withExtension: nil)
            ?? Bundle.module.bundleURL.appendingPathComponent("Migrations")
    }
}
