"""Demo agents: believable business agents across departments (name, description, model, tools)."""

AGENTS: list[tuple[str, str, str, list[str]]] = [
    (
        "Invoice Triage",
        "Reads supplier invoices from the AP mailbox, extracts vendor, amounts, VAT and PO numbers, matches them against open purchase orders and routes mismatches to the accounts payable team.",
        "gpt-4o",
        ["email_reader", "ocr", "erp_lookup"],
    ),
    (
        "Expense Policy Checker",
        "Reviews employee expense reports against the travel and expense policy, flags out-of-policy hotel rates, missing receipts and duplicate claims before manager approval.",
        "claude-sonnet-4",
        ["expense_api", "policy_search"],
    ),
    (
        "Contract Clause Reviewer",
        "Compares incoming customer contracts with our standard terms, highlights deviations in liability caps, indemnities, payment terms and governing law, and suggests fallback clauses.",
        "claude-sonnet-4",
        ["document_parser", "clause_library"],
    ),
    (
        "Support Ticket Summariser",
        "Summarises long customer support threads into a short case history with the customer's problem, steps already tried and the next action, for hand-over between shifts.",
        "gpt-4o-mini",
        ["zendesk"],
    ),
    (
        "Refund Eligibility Assistant",
        "Decides whether an e-commerce order qualifies for a refund under the returns policy using order history, delivery status and product category, and drafts the reply to the customer.",
        "gpt-4o-mini",
        ["order_api", "policy_search", "email_sender"],
    ),
    (
        "Sales Call Notes",
        "Turns recorded sales call transcripts into CRM notes: attendees, pain points, budget, decision timeline, competitors mentioned and agreed next steps.",
        "gpt-4o",
        ["transcript_api", "salesforce"],
    ),
    (
        "Lead Enrichment",
        "Enriches new inbound leads with company size, industry, tech stack and funding from public sources and scores them against the ideal customer profile.",
        "gpt-4o-mini",
        ["web_search", "salesforce"],
    ),
    (
        "RFP Response Drafter",
        "Drafts answers to security and product questionnaires in RFPs by retrieving approved answers from the knowledge base and marking questions that need a subject-matter expert.",
        "claude-sonnet-4",
        ["knowledge_base", "document_parser"],
    ),
    (
        "IT Helpdesk Password Reset",
        "Guides employees through password resets and MFA re-enrolment in chat, verifies identity with the HR directory and opens a ticket when self-service fails.",
        "gpt-4o-mini",
        ["okta", "hr_directory", "servicenow"],
    ),
    (
        "Incident Postmortem Writer",
        "Collects the timeline from the incident channel, pager alerts and deploy logs and drafts a blameless postmortem with impact, root cause, and follow-up actions.",
        "claude-sonnet-4",
        ["slack_history", "pagerduty", "deploy_log"],
    ),
    (
        "On-call Log Analyst",
        "Searches application logs and metrics during an outage, groups error signatures, correlates them with recent deploys and proposes the most likely culprit service.",
        "gpt-4o",
        ["log_search", "metrics_query", "deploy_log"],
    ),
    (
        "SQL Query Helper",
        "Writes and explains read-only SQL for analysts against the data warehouse schema, checks queries for full table scans and suggests the right partitioned tables.",
        "gpt-4o",
        ["warehouse_schema", "sql_runner"],
    ),
    (
        "Churn Risk Explainer",
        "Explains why a customer account is flagged at risk of churn from product usage drops, support tickets and NPS answers, and proposes a retention play for the account manager.",
        "claude-sonnet-4",
        ["usage_metrics", "zendesk", "salesforce"],
    ),
    (
        "Job Description Writer",
        "Drafts inclusive job descriptions from a hiring manager's notes, aligns titles and levels with the career framework and removes biased wording.",
        "gpt-4o-mini",
        ["career_framework"],
    ),
    (
        "Candidate Screening Assistant",
        "Screens applications against the must-have criteria of a role, summarises relevant experience and prepares structured interview questions, never making the hiring decision.",
        "claude-sonnet-4",
        ["ats_api"],
    ),
    (
        "Employee Onboarding Buddy",
        "Answers new joiners' questions about benefits, equipment, first-week schedule and internal tools from the HR handbook, and reminds them of onboarding tasks.",
        "gpt-4o-mini",
        ["hr_handbook", "calendar"],
    ),
    (
        "Benefits Q&A",
        "Answers employee questions about health insurance, pension contributions and parental leave from the current benefits documents for each country.",
        "gpt-4o-mini",
        ["hr_handbook"],
    ),
    (
        "Marketing Copy Generator",
        "Writes product launch copy for email, landing pages and social posts in the brand voice, with variants for A/B tests and a check against the claims guidelines.",
        "gpt-4o",
        ["brand_guide", "claims_checker"],
    ),
    (
        "SEO Content Auditor",
        "Audits blog articles for search intent, missing headings, keyword coverage and internal links, and proposes an updated outline for underperforming pages.",
        "gpt-4o-mini",
        ["web_crawler", "search_console"],
    ),
    (
        "Social Media Monitor",
        "Watches brand mentions across social networks, classifies sentiment and urgency, and alerts the comms team about complaints that are going viral.",
        "llama-3.1-70b",
        ["social_listening", "slack"],
    ),
    (
        "Procurement Quote Comparator",
        "Compares supplier quotes for the same purchase request on price, delivery time, payment terms and warranty, and recommends a supplier with reasons.",
        "gpt-4o",
        ["document_parser", "erp_lookup"],
    ),
    (
        "Inventory Reorder Planner",
        "Forecasts stock-outs per warehouse from sales velocity and lead times and proposes purchase orders with quantities for the buyer to confirm.",
        "gpt-4o",
        ["inventory_api", "forecast_model"],
    ),
    (
        "Shipment Delay Notifier",
        "Detects late shipments from carrier tracking events, estimates the new delivery date and sends proactive, apologetic updates to affected customers.",
        "gpt-4o-mini",
        ["carrier_tracking", "email_sender"],
    ),
    (
        "Customer Email Classifier",
        "Classifies incoming customer emails by intent (billing, technical, cancellation, sales) and language, extracts the account id, and routes them to the right queue.",
        "llama-3.1-70b",
        ["email_reader", "zendesk"],
    ),
    (
        "KYC Document Checker",
        "Checks identity documents and proof of address submitted during customer onboarding for completeness, expiry and name mismatches before compliance review.",
        "gpt-4o",
        ["ocr", "sanctions_list"],
    ),
    (
        "AML Alert Triage",
        "Prioritises anti-money-laundering transaction alerts by summarising the customer's profile, transaction pattern and prior alerts for the compliance analyst.",
        "claude-sonnet-4",
        ["transactions_api", "case_manager"],
    ),
    (
        "Financial Close Commentary",
        "Drafts month-end variance commentary for the P&L by comparing actuals with budget and prior month and pulling explanations from cost-centre owners' notes.",
        "claude-sonnet-4",
        ["gl_export", "sheets"],
    ),
    (
        "Board Deck Summariser",
        "Condenses department reports into a board-ready summary slide per function with key metrics, risks and asks.",
        "gpt-4o",
        ["slides", "document_parser"],
    ),
    (
        "Meeting Minutes Taker",
        "Produces minutes from meeting transcripts with decisions, owners and due dates, and posts action items to the project tracker.",
        "gpt-4o-mini",
        ["transcript_api", "jira"],
    ),
    (
        "Release Notes Writer",
        "Generates customer-facing release notes from merged pull requests and Jira tickets, grouping changes by feature and hiding internal work.",
        "gpt-4o-mini",
        ["github", "jira"],
    ),
    (
        "Code Review Assistant",
        "Reviews pull requests for common bugs, missing tests, insecure patterns and style issues and leaves inline suggestions for the author.",
        "claude-sonnet-4",
        ["github"],
    ),
    (
        "Test Case Generator",
        "Writes unit and integration test cases from user stories and acceptance criteria, including edge cases and negative paths.",
        "gpt-4o",
        ["jira", "github"],
    ),
    (
        "Cloud Cost Advisor",
        "Analyses monthly cloud bills, finds idle instances, oversized databases and missing reservations, and estimates the savings of each recommendation.",
        "gpt-4o",
        ["billing_export", "cloud_inventory"],
    ),
    (
        "Security Questionnaire Bot",
        "Answers vendor security assessment questions about encryption, access control and incident response from the approved security policy library.",
        "claude-sonnet-4",
        ["policy_search"],
    ),
    (
        "Phishing Report Analyzer",
        "Analyses emails reported as phishing by employees, checks links and attachments against threat intel and tells the reporter whether it was malicious.",
        "gpt-4o",
        ["email_reader", "threat_intel"],
    ),
    (
        "Field Service Scheduler",
        "Schedules technician visits by matching skills, parts availability and travel time, and rebooks appointments when a job runs over.",
        "gpt-4o-mini",
        ["calendar", "inventory_api", "maps"],
    ),
    (
        "Clinical Trial Matcher",
        "Matches de-identified patient profiles against trial inclusion and exclusion criteria and explains which criteria are met or unknown.",
        "claude-sonnet-4",
        ["trial_registry"],
    ),
    (
        "Translation Reviewer",
        "Reviews machine-translated product documentation for terminology consistency with the glossary and flags sentences whose meaning changed.",
        "gpt-4o",
        ["glossary"],
    ),
    (
        "Survey Insight Miner",
        "Clusters open-text answers from customer surveys into themes with counts and representative quotes, and tracks how themes change between waves.",
        "gpt-4o-mini",
        ["survey_export"],
    ),
    (
        "Legal Hold Notifier",
        "Identifies custodians for a new legal hold from the matter description and org chart, drafts the hold notice and tracks acknowledgements.",
        "claude-sonnet-4",
        ["hr_directory", "email_sender"],
    ),
]

# How many demo agents end in each status (order of the catalog above).
STATUS_PLAN: list[str] = (
    ["production"] * 14 + ["approved"] * 5 + ["pending"] * 7 + ["rejected"] * 4 + ["draft"] * 10
)
