# Spam to Junk, as a server's spam filter marks it (SpamAssassin, Rspamd).
require ["fileinto", "imap4flags", "relational", "comparator-i;ascii-numeric"];

if anyof (header :contains "X-Spam-Flag" "YES",
          header :matches "X-Spam-Status" "Yes,*") {
    fileinto :flags "\\Seen" "Junk";
    stop;
}

# A score threshold: ordered comparisons cannot be represented.
if header :value "ge" :comparator "i;ascii-numeric" "X-Spam-Score" "5" {
    fileinto "Junk";
}
