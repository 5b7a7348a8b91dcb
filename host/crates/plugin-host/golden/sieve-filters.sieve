require ["fileinto", "imap4flags"];
# Invoices to their folder, flagged.
if allof (address :domain "from" "northwind.example", header :contains "subject" "invoice") {
    addflag "\\Flagged";
    fileinto "Finance.Invoices";
    stop;
}
if header :matches "subject" "*Rechnung*" { fileinto "Finance"; }
