"""The schema of a case file (case_studies/<slug>.yaml).

Display text is zh-Hant and is shown as written; the numbers the model needs
live in ``params`` (hidden from the trainee) and in the options' terms.
Money is in the case's own currency (``currency``); rates are monthly fractions.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, model_validator

from courseware.core.errors import N_
from courseware.lending.params import Ident, LessonLink, Severity, Share, Strict, Text

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN, min_length=1, max_length=64)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Money = Annotated[float, Field(ge=0, le=1e9)]
Rate = Annotated[float, Field(ge=0, le=1)]
Term = Annotated[int, Field(ge=1, le=360)]
Month = Annotated[int, Field(ge=1, le=12)]

SCHEDULES = ("equal", "flat", "harvest", "balloon", "restructure")
Schedule = Literal["equal", "flat", "harvest", "balloon", "restructure"]
RateType = Literal["declining", "flat"]
CollateralType = Literal["household_goods", "titled_land", "vehicle", "savings"]
Willingness = Literal["honest", "weak_references", "ghost"]
DocumentStatus = Literal["verified", "unverified", "missing", "mismatch"]


# The dossier the trainee reads -------------------------------------------------


class LineItem(Strict):
    label: Text
    amount: Money


class Applicant(Strict):
    name: Title
    age: int = Field(ge=16, le=100)
    family: Text
    phone: Title | None = None
    address: Title | None = None
    notes: LongText | None = None


class DailySales(Strict):
    good_day: Money
    normal_day: Money
    slow_day: Money


class SalesDays(Strict):
    good: int = Field(ge=0, le=31)
    normal: int = Field(ge=0, le=31)
    slow: int = Field(ge=0, le=31)


class Business(Strict):
    type: Title
    years: float = Field(ge=0, le=80)
    location: Text
    description: LongText
    sales: DailySales
    sales_days: SalesDays | None = None
    margin: Share
    fixed_costs: list[LineItem] = Field(default_factory=list, max_length=20)
    seasonality: LongText | None = None


class HouseholdBudget(Strict):
    income: list[LineItem] = Field(default_factory=list, max_length=20)
    expenses: list[LineItem] = Field(min_length=1, max_length=30)


class BureauLine(Strict):
    lender: Title
    balance: Money
    installment: Money
    status: Text


class CreditBureau(Strict):
    summary: LongText
    lenders: list[BureauLine] = Field(default_factory=list, max_length=20)


class Reference(Strict):
    source: Title
    says: LongText


class Document(Strict):
    name: Title
    status: DocumentStatus
    note: Text | None = None


class ExistingLoanView(Strict):
    amount: Money
    balance: Money
    installment: Money
    remaining_term: int = Field(ge=0, le=360)
    days_past_due: int = Field(ge=0, le=720)
    note: LongText


class GroupMemberView(Strict):
    name: Title
    business: Text
    requested: Money
    note: LongText


class Request(Strict):
    amount: Annotated[float, Field(gt=0, le=1e9)]
    term: Term
    monthly_rate: Rate
    rate_type: RateType = "declining"
    schedule: Schedule = "equal"
    fee_rate: Annotated[float, Field(ge=0, lt=1)] | None = None
    purpose: LongText
    guarantor: Text | None = None
    collateral: Text | None = None


class Dossier(Strict):
    applicant: Applicant
    business: Business
    household_budget: HouseholdBudget
    credit_bureau: CreditBureau
    site_visit: list[LongText] = Field(min_length=1, max_length=20)
    references: list[Reference] = Field(default_factory=list, max_length=20)
    documents: list[Document] = Field(default_factory=list, max_length=30)
    existing_loan: ExistingLoanView | None = None
    group_members: list[GroupMemberView] | None = Field(default=None, max_length=10)
    request: Request


# What the trainee may choose ----------------------------------------------------


class Range(Strict):
    min: float = Field(ge=0)
    max: float = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.min > self.max:
            raise ValueError(N_("min must not be larger than max"))
        return self


class Allowed(Strict):
    amount: Range
    term: Range
    schedules: list[Schedule] = Field(min_length=1, max_length=len(SCHEDULES))


class Collateral(Strict):
    type: CollateralType
    value: Money
    label: Text | None = None


class Procedure(Strict):
    """What follows from deferring, referring or reporting, as shares of the loan size:
    ``lender`` (e.g. a fraud ring's other applications stopped) and ``client`` (e.g. a
    household kept out of a debt spiral; negative for one wrongly reported)."""

    lender: float = Field(default=0.0, ge=-5, le=5)
    client: float = Field(default=0.0, ge=-5, le=5)
    note: Text | None = None


class Option(Strict):
    id: Ident
    label: Text
    kind: str
    amount: Annotated[float, Field(gt=0, le=1e9)] | None = None
    term: Term | None = None
    monthly_rate: Rate | None = None
    rate_type: RateType | None = None
    schedule: Schedule | None = None
    fee_rate: Annotated[float, Field(ge=0, lt=1)] | None = None
    guarantor: bool | None = None  # unset: as in the request (when the case has a guarantor)
    collateral: Collateral | None = None
    insurance: bool = False
    member_amounts: list[Annotated[float, Field(ge=0, le=1e9)]] | None = Field(
        default=None, max_length=10
    )
    grace_months: int = Field(default=0, ge=0, le=12)
    procedure: Procedure | None = None  # defer, refer, report: what follows


# Hidden model parameters ---------------------------------------------------------


class Household(Strict):
    """One borrower's business and household, per month, in the case currency."""

    base_sales: Money
    season: list[Annotated[float, Field(ge=0, le=12)]] = Field(
        default_factory=lambda: [1.0] * 12, min_length=12, max_length=12
    )
    ramp: list[Annotated[float, Field(ge=0, le=3)]] = Field(default_factory=list, max_length=24)
    margin: Share
    fixed_costs: Money = 0.0
    other_income: Money = 0.0
    household_expenses: Money
    other_debt_service: Money = 0.0
    savings: Money = 0.0
    willingness: Willingness = "honest"
    willingness_prob: Share | None = None
    sales_sigma: Annotated[float, Field(ge=0, le=2)] | None = None


class Member(Strict):
    """A group member: her own figures laid over the case's household figures."""

    name: Title
    requested: Annotated[float, Field(gt=0, le=1e9)]
    base_sales: Money | None = None
    season: list[Annotated[float, Field(ge=0, le=12)]] | None = Field(
        default=None, min_length=12, max_length=12
    )
    ramp: list[Annotated[float, Field(ge=0, le=3)]] | None = Field(default=None, max_length=24)
    margin: Share | None = None
    fixed_costs: Money | None = None
    other_income: Money | None = None
    household_expenses: Money | None = None
    other_debt_service: Money | None = None
    savings: Money | None = None
    willingness: Willingness | None = None
    willingness_prob: Share | None = None
    sales_sigma: Annotated[float, Field(ge=0, le=2)] | None = None

    def household(self, base: Household) -> Household:
        fields = set(Household.model_fields)
        merged = {k: getattr(base, k) for k in fields}
        merged.update({k: v for k, v in self.model_dump(exclude_none=True).items() if k in fields})
        return Household(**merged)


class GuarantorParams(Strict):
    capacity: Money
    pay_prob: Share | None = None


class ExistingLoan(Strict):
    balance: Annotated[float, Field(gt=0, le=1e9)]
    monthly_rate: Rate
    remaining_term: Term
    arrears_installments: int = Field(default=0, ge=0, le=12)


class LoanUse(Strict):
    """How the borrower uses the loan money, as the dossier tells it (shares add up to 1)."""

    business: Share
    household: Share = 0.0
    diverted: Share = 0.0

    @model_validator(mode="after")
    def _adds_up(self) -> LoanUse:
        if abs(self.business + self.household + self.diverted - 1) > 1e-6:
            raise ValueError(N_("business, household and diverted must add up to 1"))
        return self


class ShockParams(Strict):
    """A shock shared by every loan of a book (lending.stages): in one run it hits all of
    them or none. ``key`` names the random stream (the book's slug), so every loan of the
    book draws the same chance; ``force`` fixes it on or off (the with/without figures)."""

    key: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    prob: Share
    month: int = Field(ge=1, le=24)
    months: int = Field(ge=1, le=12)
    sales_factor: Share  # sales in the shock months, as a share of what they would be
    force: Literal["on", "off"] | None = None


class Params(Household):
    money_scale: float = Field(gt=0, le=1e6)
    loan_use: LoanUse | None = None  # unset: model.yaml's invested_share in the business
    repeat_client: bool = False  # a strategic borrower keeps paying to keep the next loan
    start_month: Month = 1
    harvest_months: list[Month] = Field(default_factory=list, max_length=12)
    guarantor: GuarantorParams | None = None
    existing_loan: ExistingLoan | None = None
    members: list[Member] | None = Field(default=None, min_length=2, max_length=10)
    model_overrides: dict[str, Any] | None = None
    shock: ShockParams | None = None  # set by the loader on a book's loans


# The key --------------------------------------------------------------------------


class KeyFlag(Strict):
    id: Ident
    severity: Severity


ReasonSide = Literal["approve", "decline", "neutral"]


class Reason(Strict):
    """A reason a trainee may give. ``side``: the decision it argues for (approve: lend,
    in some form; decline: do not lend). Its text may name the variant's figures as
    {ratio}, {installment}, {surplus}, {sales}, {expenses} (see lending.variants); a
    reason with ``ratio_below`` / ``ratio_above`` is true only in variants where the
    requested installment's share of the dossier's surplus is below / above it."""

    id: Ident
    text: Text
    side: ReasonSide = "neutral"
    ratio_below: Annotated[float, Field(gt=0, le=10)] | None = None
    ratio_above: Annotated[float, Field(ge=0, le=10)] | None = None
    when_present: list[Ident] = Field(default_factory=list, max_length=6)  # toggles that must
    when_absent: list[Ident] = Field(default_factory=list, max_length=6)  # hold / must not
    # At a later visit of a multi-visit case: true only when the loan is behind (True) or
    # current (False) at that visit.
    when_behind: bool | None = None
    lesson: LessonLink | None = None  # module/lesson#anchor: the section that teaches it


class Key(Strict):
    red_flags: list[Ident | KeyFlag] = Field(default_factory=list, max_length=20)
    # Up to 6 candidates: each variant keeps the first 3 that hold there (ratio, toggles).
    key_reasons: list[Ident] = Field(min_length=1, max_length=6)
    best_option: Ident
    debrief: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=150, max_length=400)
    ]


# Variation: every attempt draws a variant of the case ------------------------------


class Spread(Strict):
    """A factor drawn uniformly from min to max for each variant."""

    min: float = Field(gt=0, le=10)
    max: float = Field(gt=0, le=10)

    @model_validator(mode="after")
    def _ordered(self) -> Spread:
        if self.min > self.max:
            raise ValueError(N_("min must not be larger than max"))
        return self


class ToggleParams(Strict):
    other_debt_service: Money = 0.0  # added to the household's other debt service
    savings_factor: Annotated[float, Field(ge=0, le=10)] = 1.0
    base_sales_factor: Annotated[float, Field(ge=0, le=10)] = 1.0  # hidden sales only
    other_income: Money = 0.0  # added to the household's other income (hidden)
    ramp: list[Annotated[float, Field(ge=0, le=3)]] | None = Field(default=None, max_length=24)
    willingness: Willingness | None = None
    guarantor_capacity_factor: Annotated[float, Field(ge=0, le=10)] = 1.0
    loan_use: LoanUse | None = None  # how the money is used where this fact holds
    model_overrides: dict[str, Any] | None = None  # e.g. {return_on_capital: 0.01}


class Toggle(Strict):
    """A fact that is present in some variants: its red flag, the story lines that show
    it, what it changes in the hidden figures and in the key."""

    id: Ident
    prob: Share
    flag: Ident | None = None
    flags: list[Ident] = Field(default_factory=list, max_length=4)  # more than one
    severity: Severity | None = None  # for every flag the toggle brings
    site_visit: list[LongText] = Field(default_factory=list, max_length=6)
    site_visit_absent: list[LongText] = Field(default_factory=list, max_length=6)
    references: list[Reference] = Field(default_factory=list, max_length=6)
    documents: list[Document] = Field(default_factory=list, max_length=6)
    bureau: list[BureauLine] = Field(default_factory=list, max_length=6)
    expenses: list[LineItem] = Field(default_factory=list, max_length=6)
    params: ToggleParams | None = None
    reasons: list[Reason] = Field(default_factory=list, max_length=4)
    key_reasons_add: list[Ident] = Field(default_factory=list, max_length=3)
    key_reasons_drop: list[Ident] = Field(default_factory=list, max_length=12)
    key_reasons_replace: list[Ident] | None = Field(default=None, max_length=3)  # the key's
    # reasons where this fact holds, whatever the template and earlier toggles said
    flags_drop: list[Ident] = Field(default_factory=list, max_length=6)  # flags it removes
    procedures: dict[Ident, Procedure] = Field(default_factory=dict)


class Variation(Strict):
    """How the figures of a case vary between attempts; each factor scales the dossier's
    figures and the hidden ones together, so the case stays coherent."""

    sales: Spread | None = None  # daily sales and base_sales
    expenses: Spread | None = None  # household expense lines and household_expenses
    fixed_costs: Spread | None = None  # business fixed costs
    income: Spread | None = None  # other household income
    toggles: list[Toggle] = Field(default_factory=list, max_length=6)


# Cases in several steps ------------------------------------------------------------


class Stage(Strict):
    """A later visit of a multi-visit case: it happens only while the loan the trainee
    made is outstanding, and acts on that loan (lending.stages)."""

    id: Ident
    title: Title
    month: int = Field(ge=1, le=24)  # loan months since the previous decision
    visit: list[LongText] = Field(min_length=1, max_length=8)
    visit_behind: list[LongText] = Field(default_factory=list, max_length=6)
    visit_current: list[LongText] = Field(default_factory=list, max_length=6)
    # Behind at this visit when the installment is above this share of the monthly surplus
    # after the stage's changes (0: always behind; unset: never).
    behind_if_installment_above: Annotated[float, Field(ge=0, le=10)] | None = None
    arrears_installments: int = Field(default=1, ge=1, le=6)
    flags_behind: list[Ident] = Field(default_factory=list, max_length=6)  # the visit shows
    flags_current: list[Ident] = Field(default_factory=list, max_length=6)  # these too
    params: ToggleParams | None = None
    options: list[Option] = Field(min_length=3, max_length=8)
    reasons: list[Reason] = Field(min_length=6, max_length=12)
    key: Key


class Shock(Strict):
    id: Ident
    title: Title
    prob: Share
    month: int = Field(ge=1, le=24)
    months: int = Field(ge=1, le=12)
    story: LongText


class BookLoan(Strict):
    """One application of a village book: a case body of its own."""

    id: Ident
    title: Title
    summary: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=600)]
    exposure: Share  # sales in the shock months, as a share of what they would be
    dossier: Dossier
    allowed: Allowed
    options: list[Option] = Field(min_length=3, max_length=8)
    params: Params
    reasons: list[Reason] = Field(min_length=6, max_length=16)
    key: Key
    variation: Variation | None = None


class Book(Strict):
    village: LongText
    notes: list[LongText] = Field(default_factory=list, max_length=8)
    shock: Shock
    loans: list[BookLoan] = Field(min_length=5, max_length=8)


# What a case trains, for assigning cases and for HR's per-kind results.
CaseKind = Literal[
    "good",
    "bad",
    "borderline",
    "fraud",
    "over_indebted",
    "seasonal",
    "group",
    "restructuring",
    "pricing",
    "informal_debt",
    "emergency",
    "diversion",
    "concentration",
]
CASE_KINDS: tuple[str, ...] = CaseKind.__args__  # type: ignore[attr-defined]


class CaseFile(Strict):
    slug: Slug
    title: Title
    difficulty: int = Field(ge=1, le=3)
    module: Slug | None = None  # the course module (folder slug) whose lessons it draws on
    kinds: list[CaseKind] = Field(default_factory=list, max_length=5)
    summary: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=600)]
    currency: Title = "元"
    dossier: Dossier
    allowed: Allowed
    options: list[Option] = Field(min_length=3, max_length=8)
    params: Params
    reasons: list[Reason] = Field(min_length=6, max_length=16)
    key: Key
    variation: Variation | None = None
    stages: list[Stage] | None = Field(default=None, min_length=1, max_length=3)
    book: Book | None = None  # a village book: the case body is its first loan


class BookFile(Strict):
    """A village book as written: the loader turns it into a CaseFile (lending.cases)."""

    slug: Slug
    title: Title
    difficulty: int = Field(ge=1, le=3)
    module: Slug | None = None
    kinds: list[CaseKind] = Field(default_factory=list, max_length=5)
    summary: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=600)]
    currency: Title = "元"
    book: Book
