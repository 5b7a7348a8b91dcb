# Mailing lists into folders by List-Id.
require ["fileinto", "variables", "imap4flags"];

set "lists" "Lists";

if header :contains "List-Id" "<dev.lists.example.org>" {
    fileinto "${lists}/dev";
} elsif header :contains "List-Id" "announce.example.org" {
    fileinto "${lists}/announce";
    addflag "\\Seen";
} elsif exists "List-Id" {
    fileinto "${lists}/other";
}
