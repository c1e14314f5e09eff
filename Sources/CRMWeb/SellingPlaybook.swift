import CRMCore
import Plot

/// How to sell to each personality style (domain §5, 四种不同个性客户), shown to the
/// salesperson before the meeting.
public enum SellingPlaybook {
    public enum Aspect: String, CaseIterable, Sendable {
        case cues, talkAbout, presentWith, objections, decides, buysFor
    }

    public static func advice(_ style: PersonalityStyle, _ aspect: Aspect, _ language: UILanguage) -> String {
        let row = (language == .en ? english : chinese)[aspect]!
        return row[PersonalityStyle.allCases.firstIndex(of: style)!]
    }

    static func aspectLabel(_ aspect: Aspect, _ s: Strings) -> String {
        switch aspect {
        case .cues: s[.playbookCues]
        case .talkAbout: s[.playbookTalkAbout]
        case .presentWith: s[.playbookPresentWith]
        case .objections: s[.playbookObjections]
        case .decides: s[.playbookDecides]
        case .buysFor: s[.playbookBuysFor]
        }
    }

    static func table(_ style: PersonalityStyle, _ s: Strings) -> Node<HTML.BodyContext> {
        .element(named: "dl", nodes: [.attribute(named: "class", value: "profile"), .forEach(Aspect.allCases) { aspect in
            .group(.element(named: "dt", text: aspectLabel(aspect, s)), .element(named: "dd", text: advice(style, aspect, s.language)))
        }])
    }

    // Columns in the order of PersonalityStyle.allCases: analytical, driver, expressive, amiable.
    static let english: [Aspect: [String]] = [
        .cues: ["Tidy office, charts and plans; plain, conservative dress; quiet and cool",
                "Diplomas and awards; firm handshake; \u{201C}I think…\u{201D}; loud, fast, sharp questions; punctual",
                "Personal items, sofa, messy desk; fashionable; lively body language; drifts off topic; late",
                "Family and travel photos; mild and cooperative; avoids conflict; says yes to everything"],
        .talkAbout: ["Their work: company news, goals, standing", "Their achievements and career; get to the point",
                     "Anything: news, anecdotes, people", "Relationships; the users of the product"],
        .presentWith: ["A written proposal in full detail with exact facts", "Brief and bottom-line: cost cut, revenue, speed, payback",
                       "Pictures, video, famous customers; end benefits, not features",
                       "The organisation, process and method; bring in the users; quality and a personal guarantee"],
        .objections: ["Answer with facts, precisely; never evade", "Answer fast and reasonably; never argue",
                      "Answer fast and in line with their wishes", "Be patient; no pressure"],
        .decides: ["Slowly and carefully; asks several suppliers; wants it in writing", "Fast; impatient",
                   "Fast, by feel, imitating others", "Slowly; fears risk; won't be first"],
        .buysFor: ["Quality, price, promotion", "Results that lift their performance", "Status and image",
                   "What others use; ease of use; no trouble for others"],
    ]

    static let chinese: [Aspect: [String]] = [
        .cues: ["办公室整洁，有图表和计划；衣着朴素保守；安静、冷静",
                "墙上有文凭和奖状；握手有力；常说“我认为……”；声音大、语速快、提问尖锐；守时",
                "有私人物品、沙发，桌面凌乱；衣着时尚；肢体语言丰富；爱跑题；常迟到",
                "摆着家庭和旅行照片；温和合作；回避冲突；什么都说“好”"],
        .talkAbout: ["谈他的工作：公司动态、目标、地位", "谈他的成就和事业；直奔主题", "什么都可以谈：新闻、趣事、人物", "谈人际关系；谈产品的使用者"],
        .presentWith: ["书面方案，详尽细节，准确事实", "简明扼要，讲结果：降低成本、增加收入、速度、回报期",
                       "图片、视频、知名客户；讲最终利益而非功能", "讲组织、流程和方法；请使用者参与；质量和个人担保"],
        .objections: ["用事实准确回答，绝不回避", "快速、合理地回答；绝不争辩", "快速回答，顺着他的意愿", "耐心；不施加压力"],
        .decides: ["决策缓慢谨慎；比较多家供应商；要书面材料", "决策快；没耐心", "决策快，凭感觉，模仿他人", "决策慢；怕风险；不愿做第一个"],
        .buysFor: ["质量、价格、促销", "能提升其业绩的结果", "地位和形象", "别人在用的；易用；不给别人添麻烦"],
    ]
}
