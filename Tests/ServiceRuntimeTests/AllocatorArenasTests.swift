import ServiceRuntime
import Testing

@Suite("malloc arenas")
struct AllocatorArenasTests {
    @Test("the cap is applied through glibc's mallopt, and an operator's MALLOC_ARENA_MAX is left alone")
    func cap() {
        #expect(AllocatorArenas.limit(environment: [:]) == AllocatorArenas.defaultLimit, "mallopt was not found or refused the cap")
        #expect(AllocatorArenas.limit(environment: ["MALLOC_ARENA_MAX": "4"]) == nil)
    }
}
