require ["fileinto", "imap4flags", "copy"];

if address :is "from" "boss@example.com" {
    addflag "\\Flagged";
    if header :contains "subject" "urgent" {
        fileinto :copy "Urgent";
        stop;
    } elsif size :over 1M {
        fileinto "Boss/Large";
    } else {
        fileinto "Boss";
    }
} elsif address :domain :is "from" "newsletter.example.net" {
    discard;
    stop;
} else {
    redirect :copy "archive@example.org";
}
