import SharedBasics
import Testing

@Suite("Civil dates")
struct CivilDateTests {
    @Test(arguments: [
        (0, CivilDate(year: 1970, month: 1, day: 1)),
        (-1, CivilDate(year: 1969, month: 12, day: 31)),
        (11_016, CivilDate(year: 2000, month: 2, day: 29)),
        (19_782, CivilDate(year: 2024, month: 2, day: 29)),
        (20_454, CivilDate(year: 2026, month: 1, day: 1)),
        (-719_528, CivilDate(year: 0, month: 1, day: 1)),
    ])
    func knownDates(days: Int, date: CivilDate) {
        #expect(CivilDate(daysSinceEpoch: days) == date)
        #expect(date.daysSinceEpoch == days)
    }

    @Test func everyDayOfFourCenturiesRoundTripsAndFollowsTheLastOne() {
        var previous = CivilDate(daysSinceEpoch: -146_098)
        for days in -146_097...146_097 {
            let date = CivilDate(daysSinceEpoch: days)
            #expect(date.daysSinceEpoch == days)
            #expect(previous < date)
            #expect((1...12).contains(date.month) && (1...31).contains(date.day))
            previous = date
        }
    }

    @Test func leapYears() {
        #expect(CivilDate.isLeapYear(2024))
        #expect(CivilDate.isLeapYear(2000))
        #expect(!CivilDate.isLeapYear(1900))
        #expect(!CivilDate.isLeapYear(2026))
    }
}
