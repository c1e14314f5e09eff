import Foundation

/// A field of an order-lines file: one row per order line, the lines of an order on
/// consecutive rows sharing its order number (the shape every shop system exports).
public enum OrderImportField: String, ImportField, CaseIterable, Codable {
    case orderID, customer, customerEmail, orderDate, sku, quantity, unitPrice, discount, unitCost, onPromotion, channel, currency

    public static let synonyms: [OrderImportField: [String]] = [
        .orderID: ["orderid", "order", "orderno", "ordernumber", "orderexternalid", "订单号", "订单编号", "单号"],
        .customer: ["customer", "customerid", "customerexternalid", "customerno", "客户编号", "客户", "客户号"],
        .customerEmail: ["customeremail", "email", "邮箱", "客户邮箱"],
        .orderDate: ["orderdate", "date", "purchasedate", "日期", "下单日期", "订单日期", "购买日期"],
        .sku: ["sku", "product", "productcode", "productsku", "itemcode", "商品编码", "产品编码", "商品", "产品", "货号"],
        .quantity: ["quantity", "qty", "数量"],
        .unitPrice: ["unitprice", "price", "单价", "价格", "售价"],
        .discount: ["discount", "折扣", "折扣金额", "优惠", "优惠金额"],
        .unitCost: ["unitcost", "cost", "成本", "单位成本", "成本价"],
        .onPromotion: ["onpromotion", "promotion", "promo", "促销"],
        .channel: ["channel", "saleschannel", "渠道", "销售渠道"],
        .currency: ["currency", "币种", "货币"],
    ]

    public static let required: [OrderImportField] = [.orderID, .orderDate, .sku, .quantity, .unitPrice]

    public var description: String { rawValue }
}

public typealias OrderImportMapping = ImportMapping<OrderImportField>

/// How a row names its customer: the external id the customer was imported with, or e-mail.
public enum CustomerReference: Hashable, Sendable {
    case externalID(String)
    case email(String)
}

/// One row of an order-lines file: its order's fields and one line. The product is named
/// by SKU; the importer resolves it (and the line's cost, when the file gives none).
public struct OrderImportRow: Sendable, Equatable {
    public var row: Int
    public var orderID: String
    public var customer: CustomerReference
    public var orderDate: CalendarDate
    public var channel: String?
    public var currency: Currency
    public var sku: String
    public var quantity: Int64
    public var unitPrice: Int64
    public var discount: Int64
    /// Nil: the product's unit cost.
    public var unitCost: Int64?
    public var onPromotion: Bool

    public static func parse(_ values: [String], row: Int, mapping: OrderImportMapping, defaultCurrency: Currency) -> Result<OrderImportRow, ImportProblems> {
        var cells = ImportCells(values, row: row, mapping: mapping)
        if let wrongWidth = cells.wrongWidth { return .failure(ImportProblems([wrongWidth])) }
        let orderID = cells.value(.orderID)
        if orderID == nil { cells.problem(.orderID, "is required: the lines of one order share its number") }
        if let id = orderID, id.count > 100 { cells.problem(.orderID, "must be at most 100 characters") }
        let customer = cells.customer(.customer, orEmail: .customerEmail)
        var date: CalendarDate?
        if let d = cells.value(.orderDate) {
            date = CustomerImportRow.parseDate(d)
            if date == nil { cells.problem(.orderDate, "is not a date (YYYY-MM-DD)") }
        } else {
            cells.problem(.orderDate, "is required")
        }
        let currency = cells.currency(.currency, default: defaultCurrency)
        let sku = cells.value(.sku).map(Normalise.name)
        if sku == nil { cells.problem(.sku, "is required") }
        var quantity: Int64?
        if let q = cells.value(.quantity) {
            quantity = Int64(q)
            if quantity == nil || quantity == 0 || abs(quantity!) > 1_000_000 {
                cells.problem(.quantity, "must be a whole number, not zero, at most 1,000,000 in size (negative for a return)")
                quantity = nil
            }
        } else {
            cells.problem(.quantity, "is required")
        }
        let unitPrice = cells.amount(.unitPrice, in: currency, required: true)
        let discount = cells.amount(.discount, in: currency) ?? 0
        let unitCost = cells.amount(.unitCost, in: currency)
        if let q = quantity, let p = unitPrice, discount > abs(q) * p {
            cells.problem(.discount, "must not exceed the line's amount (\(Money.decimalString(abs(q) * p, digits: currency.minorUnitDigits)))")
        }
        var onPromotion = false
        if let p = cells.value(.onPromotion) {
            switch Normalise.searchKey(p) {
            case "true", "yes", "y", "1", "是", "促销": onPromotion = true
            case "false", "no", "n", "0", "否", "": onPromotion = false
            default: cells.problem(.onPromotion, "must be yes or no (是 / 否)")
            }
        }
        let channel = cells.value(.channel).map(Normalise.name)
        if let c = channel, c.count > 50 { cells.problem(.channel, "must be at most 50 characters") }
        guard cells.problems.isEmpty, let orderID, let customer, let date, let sku, let quantity, let unitPrice else {
            return .failure(ImportProblems(cells.problems))
        }
        return .success(OrderImportRow(row: row, orderID: orderID, customer: customer, orderDate: date, channel: channel, currency: currency,
                                       sku: sku, quantity: quantity, unitPrice: unitPrice, discount: discount, unitCost: unitCost,
                                       onPromotion: onPromotion))
    }

    /// The order's own fields, which every line of one order must repeat alike.
    public func sameOrder(as other: OrderImportRow) -> OrderImportField? {
        if customer != other.customer { return customer.isEmail ? .customerEmail : .customer }
        if orderDate != other.orderDate { return .orderDate }
        if currency != other.currency { return .currency }
        if channel != other.channel { return .channel }
        return nil
    }

}

extension CustomerReference {
    public var isEmail: Bool { if case .email = self { true } else { false } }
}

/// Cells every kind of record file has in common.
extension ImportCells {
    /// The customer a row names: by external id, else by e-mail.
    public mutating func customer(_ externalID: Field, orEmail email: Field) -> CustomerReference? {
        if let x = value(externalID) { return .externalID(Normalise.name(x)) }
        if let e = value(email) {
            if let address = Normalise.email(e) { return .email(address) }
            problem(email, "is not an e-mail address")
            return nil
        }
        problem(mapping.column(of: externalID) != nil || mapping.column(of: email) == nil ? externalID : email,
                "is required: the customer's external id or e-mail")
        return nil
    }

    /// The row's currency, `fallback` when the cell is empty.
    public mutating func currency(_ field: Field, default fallback: Currency) -> Currency {
        guard let c = value(field) else { return fallback }
        if let given = Currency(c) { return given }
        problem(field, "is not an ISO 4217 currency code (CNY, USD …)")
        return fallback
    }

    /// An amount in major units of `currency` (12.50, ¥1,000), as minor units; nil when the
    /// cell is empty (a problem if `required`) or not such an amount (a problem).
    public mutating func amount(_ field: Field, in currency: Currency, required: Bool = false) -> Int64? {
        guard let text = value(field) else {
            if required { problem(field, "is required") }
            return nil
        }
        let plain = text.filter { $0 != "," && $0 != "¥" && $0 != "￥" && $0 != "$" }
        guard let minor = Money.parseMinorUnits(plain, digits: currency.minorUnitDigits), (0...Self.amountLimit).contains(minor) else {
            problem(field, "must be an amount from 0 with at most \(currency.minorUnitDigits) decimals")
            return nil
        }
        return minor
    }

    /// As `OrderInput.validated` allows: 10 billion in major units of a 2-digit currency.
    static var amountLimit: Int64 { 1_000_000_000_000 }
}

/// A field of a product file: products are matched by SKU, so re-importing a price list updates it.
public enum ProductImportField: String, ImportField, CaseIterable, Codable {
    case sku, name, category, listPrice, unitCost, currency

    public static let synonyms: [ProductImportField: [String]] = [
        .sku: ["sku", "productcode", "itemcode", "code", "商品编码", "产品编码", "货号", "编码"],
        .name: ["name", "productname", "product", "商品名称", "产品名称", "名称", "商品", "产品"],
        .category: ["category", "类别", "分类", "品类"],
        .listPrice: ["listprice", "price", "标价", "价格", "单价", "售价"],
        .unitCost: ["unitcost", "cost", "成本", "单位成本", "成本价"],
        .currency: ["currency", "币种", "货币"],
    ]

    public static let required: [ProductImportField] = [.sku, .name, .listPrice, .unitCost]

    public var description: String { rawValue }
}

public typealias ProductImportMapping = ImportMapping<ProductImportField>

extension ProductInput {
    /// One row of a product file.
    public static func parse(_ values: [String], row: Int, mapping: ProductImportMapping, defaultCurrency: Currency) -> Result<ProductInput, ImportProblems> {
        var cells = ImportCells(values, row: row, mapping: mapping)
        if let wrongWidth = cells.wrongWidth { return .failure(ImportProblems([wrongWidth])) }
        let currency = cells.currency(.currency, default: defaultCurrency)
        let listPrice = cells.amount(.listPrice, in: currency, required: true)
        let unitCost = cells.amount(.unitCost, in: currency, required: true)
        guard cells.problems.isEmpty, let listPrice, let unitCost else { return .failure(ImportProblems(cells.problems)) }
        let input = ProductInput(sku: cells.value(.sku) ?? "", name: cells.value(.name) ?? "", category: cells.value(.category),
                                 listPrice: Money(minorUnits: listPrice, currency: currency), unitCost: Money(minorUnits: unitCost, currency: currency))
        do {
            return .success(try input.normalised())
        } catch {
            if case .invalid(let issues) = error {
                for issue in issues {
                    let field: ProductImportField = issue.pointer == "/sku" ? .sku : issue.pointer == "/name" ? .name : .unitCost
                    cells.problem(field, issue.reason)
                }
            } else {
                cells.problems.append(ImportProblem(row: row, column: "", value: "", reason: "\(error)"))
            }
            return .failure(ImportProblems(cells.problems))
        }
    }
}

/// A field of an interactions file (跟进记录 from another CRM or a call-centre system).
public enum InteractionImportField: String, ImportField, CaseIterable, Codable {
    case customer, customerEmail, kind, direction, occurredAt, subject, notes, outcome, user

    public static let synonyms: [InteractionImportField: [String]] = [
        .customer: ["customer", "customerid", "customerexternalid", "客户编号", "客户", "客户号"],
        .customerEmail: ["customeremail", "email", "邮箱", "客户邮箱"],
        .kind: ["kind", "type", "activity", "类型", "方式", "跟进方式"],
        .direction: ["direction", "方向", "呼叫方向"],
        .occurredAt: ["occurredat", "date", "time", "datetime", "when", "日期", "时间", "跟进时间"],
        .subject: ["subject", "title", "主题", "标题"],
        .notes: ["notes", "note", "content", "description", "内容", "备注", "跟进内容"],
        .outcome: ["outcome", "result", "结果", "跟进结果"],
        .user: ["user", "by", "owner", "agent", "跟进人", "负责人", "坐席"],
    ]

    public static let required: [InteractionImportField] = [.kind, .occurredAt]

    public var description: String { rawValue }
}

public typealias InteractionImportMapping = ImportMapping<InteractionImportField>

/// One row of an interactions file. The time is read in `timeZone` unless it carries an
/// offset; a date alone means the start of that day there.
public struct InteractionImportRow: Sendable, Equatable {
    public var row: Int
    public var customer: CustomerReference
    public var kind: Interaction.Kind
    public var direction: Interaction.Direction
    public var occurredAt: Date
    public var subject: String?
    public var notes: String?
    public var outcome: String?
    public var username: String?

    public static func parse(_ values: [String], row: Int, mapping: InteractionImportMapping, timeZone: TimeZone, now: Date) -> Result<InteractionImportRow, ImportProblems> {
        var cells = ImportCells(values, row: row, mapping: mapping)
        if let wrongWidth = cells.wrongWidth { return .failure(ImportProblems([wrongWidth])) }
        let customer = cells.customer(.customer, orEmail: .customerEmail)
        var kind: Interaction.Kind?
        if let k = cells.value(.kind) {
            kind = Interaction.Kind(rawValue: k.lowercased()) ?? Self.chineseKinds[k]
            if kind == nil { cells.problem(.kind, "must be one of \(Interaction.Kind.allCases.map(\.rawValue).joined(separator: ", ")) (电话 / 拜访 / 会议 / 邮件 / 短信 / 信件 / 备注)") }
        } else {
            cells.problem(.kind, "is required")
        }
        var direction: Interaction.Direction = kind == .note ? .internal : .outbound
        if let d = cells.value(.direction) {
            if let given = Interaction.Direction(rawValue: d.lowercased()) ?? Self.chineseDirections[d] { direction = given } else {
                cells.problem(.direction, "must be inbound, outbound or internal (呼入 / 呼出 / 内部)")
            }
        }
        var occurredAt: Date?
        if let t = cells.value(.occurredAt) {
            occurredAt = Self.parseTime(t, in: timeZone)
            if occurredAt == nil {
                cells.problem(.occurredAt, "is not a date or time (YYYY-MM-DD or YYYY-MM-DD HH:MM)")
            } else if occurredAt! > now.addingTimeInterval(86_400) {
                cells.problem(.occurredAt, "is more than a day in the future")
            }
        } else {
            cells.problem(.occurredAt, "is required")
        }
        let subject = cells.value(.subject).map(Normalise.name)
        if let s = subject, s.count > 300 { cells.problem(.subject, "must be at most 300 characters") }
        let notes = cells.value(.notes)
        if let n = notes, n.count > 20_000 { cells.problem(.notes, "must be at most 20,000 characters") }
        guard cells.problems.isEmpty, let customer, let kind, let occurredAt else { return .failure(ImportProblems(cells.problems)) }
        return .success(InteractionImportRow(row: row, customer: customer, kind: kind, direction: direction, occurredAt: occurredAt,
                                             subject: subject, notes: notes, outcome: cells.value(.outcome), username: cells.value(.user)))
    }

    static let chineseKinds: [String: Interaction.Kind] = [
        "电话": .call, "通话": .call, "拜访": .visit, "上门": .visit, "会议": .meeting, "见面": .meeting, "邮件": .email,
        "短信": .sms, "信件": .letter, "备注": .note, "笔记": .note,
    ]
    static let chineseDirections: [String: Interaction.Direction] = [
        "呼入": .inbound, "来电": .inbound, "来访": .inbound, "呼出": .outbound, "去电": .outbound, "内部": .internal,
    ]

    /// `2026-03-01`, `2026/3/1 14:30`, `2026-03-01T14:30:00`, or ISO 8601 with an offset.
    public static func parseTime(_ text: String, in zone: TimeZone) -> Date? {
        if let instant = Instant.parse(text) { return instant }
        if let withOffset = try? Date(text, strategy: .iso8601) { return withOffset }
        let parts = text.split(whereSeparator: { $0 == " " || $0 == "T" }).map(String.init)
        guard (1...2).contains(parts.count), let day = CustomerImportRow.parseDate(parts[0]) else { return nil }
        var hour = 0, minute = 0, second = 0
        if parts.count == 2 {
            let hms = parts[1].split(separator: ":").map { Int($0) }
            guard (2...3).contains(hms.count), hms.allSatisfy({ $0 != nil }) else { return nil }
            hour = hms[0]!; minute = hms[1]!; second = hms.count == 3 ? hms[2]! : 0
            guard (0..<24).contains(hour), (0..<60).contains(minute), (0..<60).contains(second) else { return nil }
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        return calendar.date(from: DateComponents(year: day.year, month: day.month, day: day.day, hour: hour, minute: minute, second: second))
    }
}
