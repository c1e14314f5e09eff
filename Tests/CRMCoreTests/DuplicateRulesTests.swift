import CRMCore
import Foundation
import Testing

@Suite("Duplicate rules")
struct DuplicateRulesTests {
    @Test func jaroWinklerMatchesPublishedExamples() {
        // Winkler's (1990) examples, as printed to three decimals.
        #expect((DuplicateRules.jaroWinkler("MARTHA", "MARHTA") * 1000).rounded() / 1000 == 0.961)
        #expect((DuplicateRules.jaroWinkler("DWAYNE", "DUANE") * 1000).rounded() / 1000 == 0.84)
        #expect((DuplicateRules.jaroWinkler("DIXON", "DICKSONX") * 1000).rounded() / 1000 == 0.813)
        #expect(DuplicateRules.jaroWinkler("abc", "xyz") == 0)
        #expect(DuplicateRules.jaroWinkler("same", "same") == 1)
    }

    @Test func chineseNamesMustBeEqualLatinNamesSimilar() {
        #expect(DuplicateRules.nameSimilarity("张伟", "张 伟") == 1)
        #expect(DuplicateRules.nameSimilarity("张伟", "张玮") == nil)
        #expect(DuplicateRules.nameSimilarity("ＪＯＨＮ Smith", "john smith") == 1)
        let s = DuplicateRules.nameSimilarity("Jonathan Smith", "Jonathon Smith")
        #expect(s != nil && s! > DuplicateRules.latinThreshold && s! < 1)
        #expect(DuplicateRules.nameSimilarity("John Smith", "Mary Jones") == nil)
    }

    @Test func evidenceAddsUpToAtMostOne() {
        #expect(DuplicateRules.score([.sameEmail], nameSimilarity: nil) == 0.7)
        #expect(DuplicateRules.score([.similarName], nameSimilarity: 0.94) == 0.47)
        #expect(DuplicateRules.score([.sameEmail, .samePhone, .similarName], nameSimilarity: 1) == 1)
    }
}
