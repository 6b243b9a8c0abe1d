"""osTicket's ticket API, answered by Tessera: `POST /api/tickets.json|xml|email`.

Integrations written for osTicket keep working when only the host name changes. The request
is read the way osTicket reads it (`parse_json`, `parse_xml`, `data_urls`), turned into one
`RawRequest`, checked (`submission`) and handed to the same services as every other way in
(`views`). Answers keep osTicket's status codes and exact sentences (`answers`); where
osTicket loses data without a word, Tessera still opens the ticket but says what it could not
use, on the ticket and in `X-Tessera-Warnings`. docs/api.md ("osTicket compatibility") lists every difference.
"""
