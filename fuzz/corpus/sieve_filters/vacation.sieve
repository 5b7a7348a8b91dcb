require ["fileinto", "vacation"];

if address :domain :is "from" "example.com" {
    fileinto "Work";
}

vacation :days 7 :subject "Out of office" :addresses ["me@example.org"]
text:
I am away until Monday.
..and back on Tuesday at the latest.
.
;
