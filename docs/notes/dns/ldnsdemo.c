/* ldnsdemo QUERYFILE: parse a DNS query (wire), build an answer with an A
 * record, clamp/modify TTLs, convert back to wire, re-parse and print.
 * cc -Wall -O2 ldnsdemo.c $(pkg-config --cflags --libs ldns) */
#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>

static void dump(const char *what, const ldns_pkt *p)
{
	char *s = ldns_pkt2str(p);
	printf("---- %s ----\n%s", what, s);
	free(s);
}

int main(int argc, char **argv)
{
	uint8_t buf[65535];
	FILE *f = fopen(argv[1], "rb");
	size_t len = fread(buf, 1, sizeof buf, f);
	fclose(f);

	/* 1. parse */
	ldns_pkt *q = NULL;
	ldns_status st = ldns_wire2pkt(&q, buf, len);
	if (st != LDNS_STATUS_OK) {
		printf("wire2pkt: %s\n", ldns_get_errorstr_by_id(st));
		return 1;
	}
	printf("query: %zu bytes id=0x%04x qr=%d opcode=%d rd=%d ad=%d cd=%d qdcount=%u arcount=%u\n",
	       len, ldns_pkt_id(q), ldns_pkt_qr(q), ldns_pkt_get_opcode(q), ldns_pkt_rd(q),
	       ldns_pkt_ad(q), ldns_pkt_cd(q), ldns_pkt_qdcount(q), ldns_pkt_arcount(q));
	printf("edns=%d udp_size=%u do=%d edns_version=%u edns_data=%s\n", ldns_pkt_edns(q),
	       ldns_pkt_edns_udp_size(q), ldns_pkt_edns_do(q), ldns_pkt_edns_version(q),
	       ldns_pkt_edns_data(q) ? "present" : "none");
	ldns_rr *qrr = ldns_rr_list_rr(ldns_pkt_question(q), 0);
	if (!qrr) {
		printf("no question\n");
		return 1;
	}
	ldns_rdf *qname = ldns_rr_owner(qrr);
	ldns_rr_type qtype = ldns_rr_get_type(qrr);
	char *qs = ldns_rdf2str(qname);
	char *ts = ldns_rr_type2str(qtype);
	printf("qname(rdf2str)=\"%s\" qtype=%s(%d) qclass=%d\n", qs, ts, qtype, ldns_rr_get_class(qrr));
	/* lower-case copy (for lookups); ldns_dname_compare is case-insensitive */
	ldns_rdf *lc = ldns_rdf_clone(qname);
	ldns_dname2canonical(lc);
	char *lcs = ldns_rdf2str(lc);
	ldns_rdf *ref = ldns_dname_new_frm_str("example.com");
	printf("canonical=\"%s\" dname_compare(qname, \"example.com\")=%d labels=%u\n", lcs,
	       ldns_dname_compare(qname, ref), ldns_dname_label_count(qname));
	/* raw wire name: ldns_rdf_data() has length-prefixed labels, no dot */
	printf("rdf wire size=%zu\n", ldns_rdf_size(qname));
	free(qs); free(ts); free(lcs);
	ldns_rdf_deep_free(lc); ldns_rdf_deep_free(ref);

	/* 2. build the answer */
	ldns_pkt *a = ldns_pkt_new();
	ldns_pkt_set_id(a, ldns_pkt_id(q));            /* NOT copied automatically */
	ldns_pkt_set_qr(a, true);
	ldns_pkt_set_opcode(a, ldns_pkt_get_opcode(q));
	ldns_pkt_set_rd(a, ldns_pkt_rd(q));
	ldns_pkt_set_cd(a, ldns_pkt_cd(q));
	ldns_pkt_set_ra(a, true);
	ldns_pkt_set_rcode(a, LDNS_RCODE_NOERROR);
	ldns_pkt_push_rr(a, LDNS_SECTION_QUESTION, ldns_rr_clone(qrr)); /* keeps 0x20 case */

	ldns_rr *rr = ldns_rr_new();
	ldns_rr_set_owner(rr, ldns_rdf_clone(qname));
	ldns_rr_set_type(rr, LDNS_RR_TYPE_A);
	ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
	ldns_rr_set_ttl(rr, 3600);
	ldns_rdf *ip = ldns_rdf_new_frm_str(LDNS_RDF_TYPE_A, "192.0.2.10");
	ldns_rr_push_rdf(rr, ip);
	ldns_pkt_push_rr(a, LDNS_SECTION_ANSWER, rr);
	/* alternative: parse from presentation format */
	ldns_rr *rr2 = NULL;
	st = ldns_rr_new_frm_str(&rr2, "www.example.com. 7200 IN A 192.0.2.11", 0, NULL, NULL);
	printf("rr_new_frm_str: %s\n", ldns_get_errorstr_by_id(st));
	ldns_pkt_push_rr(a, LDNS_SECTION_ANSWER, rr2);
	if (ldns_pkt_edns(q)) {                          /* EDNS echo is manual */
		ldns_pkt_set_edns_udp_size(a, 1232);
		ldns_pkt_set_edns_do(a, ldns_pkt_edns_do(q));
	}
	printf("built answer: ancount=%u arcount=%u edns=%d\n", ldns_pkt_ancount(a),
	       ldns_pkt_arcount(a), ldns_pkt_edns(a));

	/* 3. modify TTLs of every answer RR (e.g. clamp to 2..30 s) */
	ldns_rr_list *an = ldns_pkt_answer(a);
	for (size_t i = 0; i < ldns_rr_list_rr_count(an); i++) {
		ldns_rr *r = ldns_rr_list_rr(an, i);
		uint32_t t = ldns_rr_ttl(r);
		ldns_rr_set_ttl(r, t > 30 ? 30 : t);
	}

	/* 4. to wire */
	uint8_t *wire = NULL;
	size_t wlen = 0;
	st = ldns_pkt2wire(&wire, a, &wlen);
	printf("pkt2wire: %s, %zu bytes\n", ldns_get_errorstr_by_id(st), wlen);
	FILE *o = fopen("answer.bin", "wb");
	fwrite(wire, 1, wlen, o);
	fclose(o);

	/* 5. re-parse to check */
	ldns_pkt *b = NULL;
	st = ldns_wire2pkt(&b, wire, wlen);
	printf("re-parse: %s id=0x%04x (query id 0x%04x)\n", ldns_get_errorstr_by_id(st),
	       ldns_pkt_id(b), ldns_pkt_id(q));
	dump("re-parsed answer", b);

	/* 6. truncated input */
	ldns_pkt *bad = NULL;
	st = ldns_wire2pkt(&bad, wire, wlen - 3);
	printf("wire2pkt(truncated by 3 bytes): %s\n", ldns_get_errorstr_by_id(st));
	st = ldns_wire2pkt(&bad, buf, 11);
	printf("wire2pkt(11 bytes): %s\n", ldns_get_errorstr_by_id(st));

	free(wire);
	ldns_pkt_free(q);
	ldns_pkt_free(a);
	ldns_pkt_free(b);
	return 0;
}
